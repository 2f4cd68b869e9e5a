import { APP_NAMES, APPS, CONFIG_SCHEMA, configVarsFor, loadConfig } from '@xray/platform';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { composeSchemaErrors } from './compose';
import { dockerStages, IMAGE_NAMES, interpolate, MIGRATE_COMMAND } from './deployment';
import { REPO_ROOT } from './yaml-files';

/** Services allowed to run as the image's root user (still without capabilities), and why. */
const ROOT_ALLOWED: Record<string, string> = {
  minio: "the image's data directory belongs to root; it writes only to its own volume",
};

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(duration ?? '10s');
  if (!match) return NaN;
  return Number(match[1]) * ({ ms: 0.001, s: 1, m: 60 } as Record<string, number>)[match[2] ?? 's'];
}

/**
 * What docker-compose.yml (optionally merged with the GPU override) must satisfy: the Compose
 * schema, agreement with APPS / CONFIG_SCHEMA, hardening, start order and the GPU reservation.
 */
export function composeProblems(raw: any, options: { gpu?: boolean } = {}): string[] {
  const problems = composeSchemaErrors(raw).map((e) => `schema: ${e}`);
  const check = (ok: unknown, message: string) => {
    if (!ok) problems.push(message);
  };
  const compose = interpolate(raw);
  const services: Record<string, any> = compose.services ?? {};
  const stages = dockerStages().stages;

  for (const app of APP_NAMES) {
    const service = services[app];
    if (!service) {
      problems.push(`${app}: no service`);
      continue;
    }
    const env: Record<string, string> = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]),
    );
    const readByApp = new Set(configVarsFor(app).map((v) => v.name));
    for (const name of Object.keys(env))
      check(readByApp.has(name), `${app}: environment ${name} is not read by ${app}`);
    let shutdownTimeoutMs = 0;
    try {
      const config = loadConfig(app, env);
      shutdownTimeoutMs = config.shutdownTimeoutMs;
      if (app !== 'gateway')
        check(
          shutdownTimeoutMs >= config.jobs.lockDurationMs,
          `${app}: SHUTDOWN_TIMEOUT_MS is below the slowest job (JOB_LOCK_DURATION_MS)`,
        );
    } catch (error) {
      problems.push(`${app}: the app rejects this configuration: ${(error as Error).message}`);
    }
    const port = Number(env.PORT ?? APPS[app].defaultPort);
    check(
      JSON.stringify(service.command) === JSON.stringify(['node', APPS[app].entry]),
      `${app}: command ${service.command} is not node ${APPS[app].entry}`,
    );
    const probe = `http://127.0.0.1:${port}${APPS[app].probes.readiness}`;
    check(JSON.stringify(service.healthcheck?.test ?? []).includes(probe), `${app}: healthcheck must request ${probe}`);
    if (service.ports)
      check(
        service.ports.some((p: string) => String(p).endsWith(`:${port}`)),
        `${app}: published port does not map to ${port}`,
      );
    check(
      seconds(service.stop_grace_period) > shutdownTimeoutMs / 1000 + 5,
      `${app}: stop_grace_period is not above SHUTDOWN_TIMEOUT_MS + 5 s`,
    );
    for (const dependency of ['redis', 'postgres'])
      check(
        service.depends_on?.[dependency]?.condition === 'service_healthy',
        `${app}: must wait for ${dependency} to be healthy`,
      );
    check(
      service.depends_on?.migrate?.condition === 'service_completed_successfully',
      `${app}: must wait for the migrations`,
    );
    if (env.S3_ENDPOINT)
      check(
        service.depends_on?.['minio-init']?.condition === 'service_completed_successfully',
        `${app}: must wait for the bucket`,
      );
  }

  for (const [name, service] of Object.entries(services)) {
    check(service.cap_drop?.includes('ALL'), `${name}: must drop ALL capabilities`);
    check(service.security_opt?.includes('no-new-privileges:true'), `${name}: must set no-new-privileges`);
    check(service.read_only === true, `${name}: root filesystem must be read-only`);
    check(
      ROOT_ALLOWED[name] || (service.user && !/^(root|0)(:|$)/.test(String(service.user))),
      `${name}: must run as a non-root user`,
    );
    for (const [dependency, { condition }] of Object.entries<any>(service.depends_on ?? {})) {
      if (condition === 'service_healthy')
        check(
          services[dependency]?.healthcheck,
          `${name}: waits for ${dependency} to be healthy, which has no healthcheck`,
        );
      if (condition === 'service_completed_successfully')
        check(services[dependency]?.restart === 'no', `${name}: waits for ${dependency} to complete, which restarts`);
    }
    if (service.build) {
      check(
        fs.existsSync(path.join(REPO_ROOT, service.build.context, service.build.dockerfile)),
        `${name}: Dockerfile ${service.build.dockerfile} not found`,
      );
      check(
        stages.some((s) => s.name === service.build.target),
        `${name}: Dockerfile has no stage ${service.build.target}`,
      );
      const image = String(service.image).replace(/:[^:/]+$/, '');
      check(IMAGE_NAMES.includes(image), `${name}: image ${service.image} is not one of ${IMAGE_NAMES}`);
    }
  }

  const redis = (services.redis?.command ?? []).join(' ');
  check(redis.includes('--appendonly yes'), 'redis: AOF must be on (--appendonly yes)');
  check(
    redis.includes('--maxmemory-policy noeviction'),
    'redis: --maxmemory-policy must be noeviction (BullMQ loses jobs otherwise)',
  );
  check(
    JSON.stringify(services.migrate?.command) === JSON.stringify(MIGRATE_COMMAND),
    `migrate: must run ${MIGRATE_COMMAND.join(' ')}`,
  );
  const bucket = services.gateway?.environment?.S3_BUCKET ?? CONFIG_SCHEMA.s3Bucket.default;
  check(
    JSON.stringify(services['minio-init']?.command ?? '').includes(`mb --ignore-existing local/${bucket}`),
    `minio-init: must create the bucket ${bucket}`,
  );

  if (options.gpu) {
    const worker = services['inference-worker'] ?? {};
    const devices = worker.deploy?.resources?.reservations?.devices ?? [];
    check(
      devices.some((d: any) => d.driver === 'nvidia' && d.capabilities?.includes('gpu')),
      'inference-worker: no NVIDIA GPU reservation',
    );
    check(
      stages.find((s) => s.name === worker.build?.target)?.from.startsWith('nvidia/cuda:'),
      'inference-worker: GPU build target is not on a CUDA base',
    );
    check(
      String(worker.image).replace(/:[^:/]+$/, '') === 'xray/app-gpu',
      'inference-worker: GPU image must be xray/app-gpu',
    );
  }
  return problems;
}
