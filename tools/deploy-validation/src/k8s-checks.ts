import { APP_NAMES, APPS, CONFIG_SCHEMA, configVarsFor, loadConfig, XrayMetrics, type AppName } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import { environmentOf, metricNamesIn, placeholderFor } from './app-environment';
import { IMAGE_NAMES, MIGRATE_COMMAND } from './deployment';
import { containersOf, type K8sObject } from './kustomize';

/** The queue each worker consumes (its KEDA trigger must watch that one). */
export const WORKER_QUEUES: Partial<Record<AppName, string>> = {
  'inference-worker': QUEUES.inference,
  'explain-worker': QUEUES.explain,
};
const WORKERS = APP_NAMES.filter((app) => WORKER_QUEUES[app]);
const EXPORTED_METRICS = new Set(new XrayMetrics({ app: 'x' }).registry.getMetricsAsArray().map((m) => m.name));
const SCHEMA_VARS = Object.values(CONFIG_SCHEMA);

export interface K8sCheckOptions {
  /** GPU overlay: workers need GPUs, the GPU image and a daytime minimum. */
  gpu?: boolean;
  /** Release overlay: no `latest` tags. */
  pinnedTags?: boolean;
}

/**
 * Everything a rendered overlay must agree on with the apps' real configuration
 * (libs/platform: APPS and CONFIG_SCHEMA; libs/shared: QUEUES; XrayMetrics' metric names).
 * Returns the problems found; empty when the overlay is consistent.
 */
export function k8sProblems(objects: K8sObject[], options: K8sCheckOptions = {}): string[] {
  const problems: string[] = [];
  const check = (ok: unknown, message: string) => {
    if (!ok) problems.push(message);
  };
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const namespace = objects[0]?.metadata.namespace;
  const configMap = objects.find((o) => o.kind === 'ConfigMap');

  const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
  check(
    JSON.stringify([...deployments].sort()) === JSON.stringify([...APP_NAMES].sort()),
    `Deployments ${deployments} are not the apps ${APP_NAMES}`,
  );
  for (const name of Object.keys(configMap?.data ?? {})) {
    const spec = SCHEMA_VARS.find((v) => v.name === name);
    check(spec, `ConfigMap sets ${name}, which no app reads`);
    check(!spec?.secret, `ConfigMap holds the secret ${name}: use a secretKeyRef`);
  }

  for (const app of APP_NAMES) {
    const deployment = find('Deployment', app);
    if (!deployment) continue;
    const pod = deployment.spec.template.spec;
    const c = pod.containers.find((x: any) => x.name === app);
    if (!c) {
      problems.push(`${app}: no container named ${app}`);
      continue;
    }
    const env = environmentOf(c, configMap, placeholderFor);
    const port = Number(env.PORT ?? APPS[app].defaultPort);
    check(
      JSON.stringify(c.command) === JSON.stringify(['node', APPS[app].entry]),
      `${app}: command ${c.command} is not node ${APPS[app].entry}`,
    );
    check(
      c.ports?.some((p: any) => p.name === 'http' && p.containerPort === port),
      `${app}: no port "http" on ${port}, where the app listens`,
    );
    for (const [probe, path] of [
      ['readinessProbe', APPS[app].probes.readiness],
      ['livenessProbe', APPS[app].probes.liveness],
    ]) {
      check(
        c[probe]?.httpGet?.path === path && c[probe]?.httpGet?.port === 'http',
        `${app}: ${probe} must GET ${path} on port http (got ${JSON.stringify(c[probe]?.httpGet)})`,
      );
    }
    if (c.startupProbe)
      check(
        Object.values(APPS[app].probes).includes(c.startupProbe.httpGet?.path),
        `${app}: startupProbe path ${c.startupProbe.httpGet?.path} is not served`,
      );

    const readByApp = new Set(configVarsFor(app).map((v) => v.name));
    for (const { name, valueFrom } of c.env ?? []) {
      check(readByApp.has(name), `${app}: env ${name} is not read by ${app}`);
      if (SCHEMA_VARS.find((v) => v.name === name)?.secret)
        check(
          valueFrom?.secretKeyRef?.key === name,
          `${app}: secret ${name} must come from a Secret key of the same name`,
        );
    }
    let shutdownTimeoutMs = 0;
    let lockDurationMs = 0;
    try {
      const config = loadConfig(app, env);
      shutdownTimeoutMs = config.shutdownTimeoutMs;
      lockDurationMs = config.jobs.lockDurationMs;
    } catch (error) {
      problems.push(`${app}: the app rejects this configuration: ${(error as Error).message}`);
    }
    const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
    // closeOnSignals exits at SHUTDOWN_TIMEOUT_MS + 5 s at the latest.
    check(
      graceMs > shutdownTimeoutMs + 5000,
      `${app}: terminationGracePeriodSeconds ${graceMs / 1000} s is not above SHUTDOWN_TIMEOUT_MS + 5 s`,
    );
    if (WORKER_QUEUES[app])
      check(
        shutdownTimeoutMs >= lockDurationMs,
        `${app}: SHUTDOWN_TIMEOUT_MS is below the slowest job (JOB_LOCK_DURATION_MS)`,
      );

    check(pod.securityContext?.runAsNonRoot === true, `${app}: pod must set runAsNonRoot`);
    const sc = c.securityContext ?? {};
    check(
      sc.allowPrivilegeEscalation === false &&
        sc.readOnlyRootFilesystem === true &&
        sc.capabilities?.drop?.includes('ALL'),
      `${app}: container must drop ALL capabilities, forbid privilege escalation and use a read-only root filesystem`,
    );
    check(c.resources?.requests && c.resources?.limits, `${app}: resource requests and limits are required`);

    const labels = deployment.spec.template.metadata.labels ?? {};
    const selects = (selector: Record<string, string> | undefined) =>
      selector && Object.entries(selector).every(([k, v]) => labels[k] === v);
    check(selects(find('Service', app)?.spec.selector), `${app}: no Service selecting its pods`);
    check(
      find('Service', app)?.spec.ports?.some((p: any) => p.targetPort === 'http'),
      `${app}: Service must target port http`,
    );
    check(
      selects(find('PodDisruptionBudget', app)?.spec.selector.matchLabels),
      `${app}: no PodDisruptionBudget selecting its pods`,
    );

    const { metricsPath, metricsPortName } = APPS[app];
    if (metricsPortName === 'metrics') {
      const metricsPort = Number(env.METRICS_PORT ?? CONFIG_SCHEMA.metricsPort.default);
      check(
        c.ports?.some((p: any) => p.name === 'metrics' && p.containerPort === metricsPort),
        `${app}: no port "metrics" on ${metricsPort} (METRICS_PORT), where the app serves ${metricsPath}`,
      );
      // The Ingress routes Services: a Service port onto the metrics port would publish it.
      for (const service of objects.filter((o) => o.kind === 'Service' && selects(o.spec.selector)))
        check(
          !service.spec.ports?.some((p: any) => p.targetPort === 'metrics' || p.targetPort === metricsPort),
          `${app}: Service ${service.metadata.name} exposes the metrics port`,
        );
    }
    const endpoints = objects
      .filter((o) => o.kind === 'PodMonitor' && selects(o.spec.selector.matchLabels))
      .flatMap((o) => o.spec.podMetricsEndpoints ?? []);
    check(endpoints.length > 0, `${app}: not selected by a PodMonitor`);
    check(
      endpoints.some((e: any) => e.port === metricsPortName && e.path === metricsPath),
      `${app}: no PodMonitor scrapes ${metricsPath} on port ${metricsPortName}`,
    );
    check(
      endpoints.every((e: any) => e.port === metricsPortName),
      `${app}: a PodMonitor scrapes a port other than ${metricsPortName}, where ${metricsPath} is not served`,
    );
  }

  for (const c of containersOf(objects)) {
    const match = /^(.*):([^:/]+)$/.exec(c.image);
    check(
      match && IMAGE_NAMES.some((image) => match[1] === image || match[1].endsWith(`/${image}`)),
      `image ${c.image} is not one the Dockerfile builds (${IMAGE_NAMES})`,
    );
    if (options.pinnedTags) check(match && match[2] !== 'latest', `image ${c.image} must have a pinned tag`);
  }

  const internalPaths = APP_NAMES.flatMap((app) => [...Object.values(APPS[app].probes), APPS[app].metricsPath]);
  const publicUrl = configMap?.data?.PUBLIC_URL ? new URL(configMap.data.PUBLIC_URL) : undefined;
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of ingress.spec.rules) {
      if (publicUrl)
        check(
          rule.host === publicUrl.hostname,
          `Ingress host ${rule.host} is not PUBLIC_URL's host ${publicUrl.hostname}`,
        );
      for (const path of rule.http.paths) {
        const service = find('Service', path.backend.service.name);
        check(
          service?.spec.ports.some((p: any) => p.name === path.backend.service.port.name),
          `Ingress ${path.path} points at no Service port`,
        );
        for (const internal of internalPaths)
          check(
            !ingressMatches(path, internal),
            `Ingress ${path.path} publishes ${internal}, which must stay inside the cluster`,
          );
      }
    }
  }

  const hpa = find('HorizontalPodAutoscaler', 'gateway');
  check(
    hpa?.spec.scaleTargetRef.kind === 'Deployment' && hpa.spec.scaleTargetRef.name === 'gateway',
    'gateway: no HPA on its Deployment',
  );
  for (const app of WORKERS) {
    const scaled = find('ScaledObject', app);
    if (!scaled) {
      problems.push(`${app}: no KEDA ScaledObject`);
      continue;
    }
    check(scaled.spec.scaleTargetRef.name === app, `${app}: ScaledObject targets ${scaled.spec.scaleTargetRef.name}`);
    const query: string = scaled.spec.triggers.find((t: any) => t.type === 'prometheus')?.metadata.query ?? '';
    check(
      query.includes(`queue="${WORKER_QUEUES[app]}"`),
      `${app}: KEDA query does not read the ${WORKER_QUEUES[app]} queue`,
    );
    if (namespace)
      check(query.includes(`namespace="${namespace}"`), `${app}: KEDA query reads another namespace than ${namespace}`);
    for (const state of ['waiting', 'prioritized', 'active'])
      check(query.includes(state), `${app}: KEDA query ignores ${state} jobs`);
    for (const metric of metricNamesIn(query))
      check(EXPORTED_METRICS.has(metric), `${app}: KEDA query reads ${metric}, which no app exports`);

    if (options.gpu) {
      const pod = find('Deployment', app)?.spec.template.spec;
      const c = pod?.containers.find((x: any) => x.name === app);
      check(Number(c?.resources?.limits?.['nvidia.com/gpu']) >= 1, `${app}: no nvidia.com/gpu limit`);
      check(/xray\/app-gpu:/.test(c?.image ?? ''), `${app}: not on the GPU image`);
      check(Object.keys(pod?.nodeSelector ?? {}).length > 0, `${app}: no GPU nodeSelector`);
      check(
        pod?.tolerations?.some((t: any) => t.key === 'nvidia.com/gpu'),
        `${app}: no toleration for GPU nodes`,
      );
      const cron = scaled.spec.triggers.find((t: any) => t.type === 'cron');
      check(
        scaled.spec.minReplicaCount >= 1 || Number(cron?.metadata.desiredReplicas) >= 1,
        `${app}: no GPU worker kept up during the day`,
      );
    }
  }

  const job = find('Job', 'xray-migrate');
  check(job?.spec.template.spec.restartPolicy === 'Never', 'migration Job missing or restarting in place');
  check(
    JSON.stringify(job?.spec.template.spec.containers[0].command) === JSON.stringify(MIGRATE_COMMAND),
    `migration Job must run ${MIGRATE_COMMAND.join(' ')}`,
  );

  const rules: Array<{ alert: string; expr: string }> = (
    objects.find((o) => o.kind === 'PrometheusRule')?.spec.groups ?? []
  ).flatMap((g: any) => g.rules);
  for (const alert of ['XrayQueueBacklogGrowing', 'XrayJobsFailing', 'XrayWebhooksFailing'])
    check(
      rules.some((r) => r.alert === alert),
      `alert ${alert} missing`,
    );
  for (const rule of rules) {
    for (const metric of metricNamesIn(rule.expr))
      check(EXPORTED_METRICS.has(metric), `alert ${rule.alert} reads ${metric}, which no app exports`);
  }
  return problems;
}

/** Whether an Ingress path (Exact or Prefix, element-wise as Kubernetes defines it) routes `url`. */
function ingressMatches({ path, pathType }: { path: string; pathType: string }, url: string): boolean {
  if (pathType === 'Exact') return path === url;
  const prefix = path.replace(/\/+$/, '');
  return prefix === '' || url === prefix || url.startsWith(`${prefix}/`);
}
