import { composeSchemaErrors, mergeCompose, readCompose } from './compose';
import { composeProblems } from './compose-checks';
import { dockerStages } from './deployment';
import { defaultModelPackageProblems, dockerfileProblems } from './dockerfile-checks';

const base = () => readCompose('docker-compose.yml');
const withGpu = () => mergeCompose(base(), readCompose('docker-compose.gpu.yml'));

describe('docker-compose', () => {
  it('docker-compose.yml is valid Compose and agrees with the apps', () => {
    expect(composeProblems(base())).toEqual([]);
  });

  it('with docker-compose.gpu.yml, the inference worker gets an NVIDIA GPU and the CUDA image', () => {
    expect(composeSchemaErrors(readCompose('docker-compose.gpu.yml'))).toEqual([]);
    expect(composeProblems(withGpu(), { gpu: true })).toEqual([]);
  });

  it('reports drift: schema errors, wrong probe, unknown env, missing hardening, evicting Redis', () => {
    const compose = base();
    compose.services.gateway.healthcheck.test = ['CMD', 'true'];
    compose.services['explain-worker'].environment = {
      ...compose.services['explain-worker'].environment,
      EXPLAIN_THREADS: '4',
    };
    delete compose.services.postgres.cap_drop;
    compose.services.redis.command = compose.services.redis.command.map((a: string) =>
      a.replace('noeviction', 'allkeys-lru'),
    );
    compose.services.minio.restart_policy = 'always';
    expect(composeProblems(compose)).toEqual(
      expect.arrayContaining([
        'schema: /services/minio must NOT have additional properties',
        'gateway: healthcheck must request http://127.0.0.1:3000/health/ready',
        'explain-worker: environment EXPLAIN_THREADS is not read by explain-worker',
        'postgres: must drop ALL capabilities',
        'redis: --maxmemory-policy must be noeviction (BullMQ loses jobs otherwise)',
      ]),
    );
  });

  it('reports a GPU override that lost its device reservation', () => {
    const compose = withGpu();
    delete compose.services['inference-worker'].deploy;
    expect(composeProblems(compose, { gpu: true })).toEqual(['inference-worker: no NVIDIA GPU reservation']);
  });
});

describe('deploy/docker/Dockerfile', () => {
  it('pins Node 20, runs as non-root, ships the model, installs the GPU runtimes at build time', () => {
    expect(dockerfileProblems()).toEqual([]);
  });

  it('ships the model package that the default MODEL_DIR names, and it is in the repository', () => {
    expect(defaultModelPackageProblems()).toEqual([]);
    expect(defaultModelPackageProblems('/nonexistent')).toEqual([
      'models/bodypart: model-card.json and model.json must exist (the default MODEL_DIR of the images)',
    ]);
  });

  it('reports a model copied where MODEL_DIR does not look, or left out of the build context', () => {
    const parsed = dockerStages();
    const runtime = parsed.stages.find((s) => s.name === 'runtime')!;
    runtime.lines = runtime.lines.map((l) =>
      l.startsWith('COPY') && l.includes('/app/models') ? l.replace('./models', '/opt/models') : l,
    );
    expect(dockerfileProblems(parsed, 'models\n')).toEqual([
      '.dockerignore must not exclude models/ (the images ship models/bodypart)',
      'runtime: must copy the model package folder models/ to /app/models (MODEL_DIR defaults to models/bodypart, relative to WORKDIR)',
    ]);
  });

  it('reports drift', () => {
    const parsed = dockerStages();
    parsed.args.NODE_VERSION = '22';
    const gpu = parsed.stages.find((s) => s.name === 'gpu-worker')!;
    gpu.lines = gpu.lines.filter((l) => !l.startsWith('USER'));
    expect(dockerfileProblems(parsed)).toEqual(
      expect.arrayContaining([
        'NODE_VERSION must pin an exact Node 20 release (got 22)',
        'gpu-worker: must end as a non-root USER',
      ]),
    );
  });
});
