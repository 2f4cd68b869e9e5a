import { XrayError } from '@xray/shared';
import { APPS, CONFIG_SCHEMA, type AppName, type ConfigKey, type ConfigVar } from './schema';

type Parsed = { [K in ConfigKey]: ReturnType<(typeof CONFIG_SCHEMA)[K]['parse']> | undefined };

export type StorageConfig =
  | { kind: 'fs'; dir: string }
  | {
      kind: 's3';
      endPoint: string;
      port?: number;
      useSSL: boolean;
      accessKey: string;
      secretKey: string;
      bucket: string;
      region: string;
    };

/** The typed, validated configuration of one app. */
export interface AppConfig {
  app: AppName;
  logLevel: string;
  port: number;
  /** The gateway's metrics port (METRICS_PORT); the workers serve metrics on `port`. */
  metricsPort: number;
  publicUrl: string;
  redisUrl: string;
  queuePrefix: string;
  databaseUrl: string;
  storage: StorageConfig;
  modelDir: string;
  engine: 'onnx' | 'tfjs' | 'auto';
  maxUploadBytes: number;
  maxFilesPerStudy: number;
  rateLimit: { max: number; windowMs: number };
  apiKeyCacheMs: number;
  inference: { concurrency: number; batchSize: number; batchWaitMs: number; decodeBudgetBytes: number };
  explain: { concurrency: number };
  jobs: {
    attempts: number;
    backoffMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    keepCompleted: number;
    keepFailed: number;
  };
  heartbeatMaxAgeMs: number;
  shutdownTimeoutMs: number;
  queueSweep: { enqueueTimeoutMs: number; intervalMs: number; afterMs: number };
  storageSweep: { intervalMs: number; orphanAgeMs: number };
  webhooks: { concurrency: number; timeoutMs: number; maxAttempts: number; backoffMs: number; allowPrivate: boolean };
  dicom: {
    port: number;
    aeTitle: string;
    maxAssociations: number;
    associationTimeoutMs: number;
    idleTimeoutMs: number;
    studyStableSeconds: number;
    export: { concurrency: number; timeoutMs: number; maxAttempts: number; backoffMs: number };
  };
}

/**
 * Reads and validates the environment once at boot. Every problem is listed in one
 * XrayError('CONFIG_INVALID') so an operator fixes them in one go.
 */
export function loadConfig(app: AppName, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const raw = {} as Parsed;
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as Array<[ConfigKey, (typeof CONFIG_SCHEMA)[ConfigKey]]>) {
    try {
      (raw as Record<string, unknown>)[key] = parseVar(spec as ConfigVar<unknown>, env);
    } catch (error) {
      problems.push(`${spec.name}: ${(error as Error).message}`);
    }
  }
  const storage = storageConfig(raw, problems);
  if ((raw.inferenceConcurrency ?? 0) < (raw.inferenceBatchSize ?? 0))
    problems.push(
      'INFERENCE_CONCURRENCY must be >= INFERENCE_BATCH_SIZE (the batcher only sees jobs the worker holds)',
    );
  if (problems.length > 0) throw new XrayError('CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`);

  const port = raw.port ?? APPS[app].defaultPort;
  return {
    app,
    logLevel: raw.logLevel!,
    port,
    metricsPort: raw.metricsPort!,
    publicUrl: (raw.publicUrl ?? `http://localhost:${app === 'gateway' ? port : APPS.gateway.defaultPort}`).replace(
      /\/+$/,
      '',
    ),
    redisUrl: raw.redisUrl!,
    queuePrefix: raw.queuePrefix!,
    databaseUrl: raw.databaseUrl!,
    storage: storage!,
    modelDir: raw.modelDir!,
    engine: raw.engine!,
    maxUploadBytes: raw.maxUploadBytes!,
    maxFilesPerStudy: raw.maxFilesPerStudy!,
    rateLimit: { max: raw.rateLimitMax!, windowMs: raw.rateLimitWindowMs! },
    apiKeyCacheMs: raw.apiKeyCacheMs!,
    inference: {
      concurrency: raw.inferenceConcurrency!,
      batchSize: raw.inferenceBatchSize!,
      batchWaitMs: raw.inferenceBatchWaitMs!,
      decodeBudgetBytes: raw.inferenceDecodeBudgetBytes!,
    },
    explain: { concurrency: raw.explainConcurrency! },
    jobs: {
      attempts: raw.jobAttempts!,
      backoffMs: raw.jobBackoffMs!,
      lockDurationMs: raw.jobLockDurationMs!,
      stalledIntervalMs: raw.jobStalledIntervalMs!,
      keepCompleted: raw.keepCompletedJobs!,
      keepFailed: raw.keepFailedJobs!,
    },
    heartbeatMaxAgeMs: raw.heartbeatMaxAgeMs!,
    shutdownTimeoutMs: raw.shutdownTimeoutMs!,
    storageSweep: { intervalMs: raw.storageSweepIntervalMs!, orphanAgeMs: raw.storageOrphanAgeMs! },
    queueSweep: {
      enqueueTimeoutMs: raw.enqueueTimeoutMs!,
      intervalMs: raw.queueSweepIntervalMs!,
      afterMs: raw.queueSweepAfterMs!,
    },
    webhooks: {
      concurrency: raw.webhookConcurrency!,
      timeoutMs: raw.webhookTimeoutMs!,
      maxAttempts: raw.webhookMaxAttempts!,
      backoffMs: raw.webhookBackoffMs!,
      allowPrivate: raw.webhookAllowPrivate!,
    },
    dicom: {
      port: raw.dicomPort!,
      aeTitle: raw.dicomAeTitle!,
      maxAssociations: raw.dicomMaxAssociations!,
      associationTimeoutMs: raw.dicomAssociationTimeoutMs!,
      idleTimeoutMs: raw.dicomIdleTimeoutMs!,
      studyStableSeconds: raw.dicomStudyStableSeconds!,
      export: {
        concurrency: raw.dicomExportConcurrency!,
        timeoutMs: raw.dicomExportTimeoutMs!,
        maxAttempts: raw.dicomExportMaxAttempts!,
        backoffMs: raw.dicomExportBackoffMs!,
      },
    },
  };
}

/** The variable's value in `env` (or its default), parsed; undefined when unset with no default. */
function parseVar<T>(spec: ConfigVar<T>, env: NodeJS.ProcessEnv): T | undefined {
  const value = env[spec.name] !== undefined && env[spec.name] !== '' ? env[spec.name] : spec.default;
  return value === undefined ? undefined : spec.parse(value);
}

/**
 * One variable of the schema, read and validated as `loadConfig` does, for the programs that
 * share a variable with the apps without loading a whole app config (the CLI reads ENGINE and MODEL_DIR).
 */
export function readConfigVar<K extends ConfigKey>(key: K, env: NodeJS.ProcessEnv = process.env): Parsed[K] {
  const spec = CONFIG_SCHEMA[key] as ConfigVar<Parsed[K]>;
  try {
    return parseVar(spec, env);
  } catch (error) {
    throw new XrayError('CONFIG_INVALID', `Invalid configuration: ${spec.name}: ${(error as Error).message}`);
  }
}

function storageConfig(raw: Parsed, problems: string[]): StorageConfig | undefined {
  if (!raw.s3Endpoint) return { kind: 'fs', dir: raw.storageDir! };
  if (!raw.s3AccessKey || !raw.s3SecretKey) {
    problems.push('S3_ACCESS_KEY and S3_SECRET_KEY are required with S3_ENDPOINT');
    return undefined;
  }
  const endpoint = new URL(raw.s3Endpoint);
  return {
    kind: 's3',
    endPoint: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    useSSL: raw.s3UseSsl ?? endpoint.protocol === 'https:',
    accessKey: raw.s3AccessKey,
    secretKey: raw.s3SecretKey,
    bucket: raw.s3Bucket!,
    region: raw.s3Region!,
  };
}
