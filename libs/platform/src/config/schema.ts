/**
 * The one configuration schema of the gateway and both workers, kept as data so that
 * docs, docker-compose and Kubernetes manifests can be checked against it by tests.
 */
import { OBSERVABILITY_PATHS } from '../observability/paths';

export type AppName = 'gateway' | 'inference-worker' | 'explain-worker' | 'dicom-listener';
export const APP_NAMES: readonly AppName[] = ['gateway', 'inference-worker', 'explain-worker', 'dicom-listener'];

type Kind = 'string' | 'int' | 'bool' | 'url';

export interface ConfigVar<T = unknown> {
  /** Environment variable name. */
  name: string;
  kind: Kind;
  /** Default as the environment string; undefined = optional with no default. */
  default?: string;
  description: string;
  /** Which apps read it. */
  apps: readonly AppName[];
  secret?: boolean;
  /** Parses the raw string (already checked for its kind); throws with a message on bad input. */
  parse: (raw: string) => T;
}

const ALL = APP_NAMES;
const WORKERS: AppName[] = ['inference-worker', 'explain-worker'];

function str(): (raw: string) => string {
  return (raw) => raw;
}
function int(min = 0): (raw: string) => number {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
    const value = Number(raw);
    if (value < min) throw new Error(`must be >= ${min}`);
    return value;
  };
}
function bool(): (raw: string) => boolean {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    throw new Error(`expected true or false, got "${raw}"`);
  };
}
function oneOf<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    const value = raw.trim().toLowerCase() as T;
    if (!choices.includes(value)) throw new Error(`expected one of ${choices.join(', ')}, got "${raw}"`);
    return value;
  };
}
function url(protocols: string[]): (raw: string) => string {
  return (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`not a URL: "${raw}"`);
    }
    if (!protocols.includes(parsed.protocol)) throw new Error(`protocol must be one of ${protocols.join(', ')}`);
    return raw;
  };
}

/** AE titles: 1-16 characters of the default repertoire, no backslash or control characters (PS3.5 6.2). */
function aeTitle(): (raw: string) => string {
  return (raw) => {
    const value = raw.trim();
    if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(value)) throw new Error(`not a valid AE title: "${raw}"`);
    return value;
  };
}

function v<T>(spec: ConfigVar<T>): ConfigVar<T> {
  return spec;
}

export const CONFIG_SCHEMA = {
  logLevel: v({
    name: 'LOG_LEVEL',
    kind: 'string',
    default: 'info',
    description: 'pino log level (fatal, error, warn, info, debug, trace, silent).',
    apps: ALL,
    parse: str(),
  }),
  port: v({
    name: 'PORT',
    kind: 'int',
    description: "HTTP port (API on the gateway; health and metrics on the workers). Default: the app's port in APPS.",
    apps: ALL,
    parse: int(0),
  }),
  metricsPort: v({
    name: 'METRICS_PORT',
    kind: 'int',
    default: '9464',
    description:
      "Port of the gateway's `/metrics` (Prometheus), apart from the API port so that the Ingress never publishes it; the API port answers 404 there.",
    apps: ['gateway'],
    parse: int(0),
  }),
  publicUrl: v({
    name: 'PUBLIC_URL',
    kind: 'url',
    description:
      "Base URL clients use to reach the gateway; links in API answers and webhooks use it. Default: http://localhost:<the gateway's port>.",
    apps: ALL,
    parse: url(['http:', 'https:']),
  }),
  redisUrl: v({
    name: 'REDIS_URL',
    kind: 'url',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis for BullMQ queues, rate limits and live status events.',
    apps: ALL,
    secret: true,
    parse: url(['redis:', 'rediss:']),
  }),
  queuePrefix: v({
    name: 'QUEUE_PREFIX',
    kind: 'string',
    default: 'xray',
    description: 'Redis key prefix of the BullMQ queues (one per deployment sharing a Redis).',
    apps: ALL,
    parse: str(),
  }),
  databaseUrl: v({
    name: 'DATABASE_URL',
    kind: 'url',
    default: 'postgres://postgres@127.0.0.1:5432/xray',
    description: 'PostgreSQL connection URL.',
    apps: ALL,
    secret: true,
    parse: url(['postgres:', 'postgresql:']),
  }),
  storageDir: v({
    name: 'STORAGE_DIR',
    kind: 'string',
    default: './var/objects',
    description: 'Filesystem object storage root (used unless S3_ENDPOINT is set).',
    apps: ALL,
    parse: str(),
  }),
  s3Endpoint: v({
    name: 'S3_ENDPOINT',
    kind: 'url',
    description:
      'S3-compatible endpoint (MinIO, AWS S3, Ceph RGW), e.g. http://minio:9000. Setting it selects S3 storage.',
    apps: ALL,
    parse: url(['http:', 'https:']),
  }),
  s3AccessKey: v({
    name: 'S3_ACCESS_KEY',
    kind: 'string',
    description: 'S3 access key (required with S3_ENDPOINT).',
    apps: ALL,
    secret: true,
    parse: str(),
  }),
  s3SecretKey: v({
    name: 'S3_SECRET_KEY',
    kind: 'string',
    description: 'S3 secret key (required with S3_ENDPOINT).',
    apps: ALL,
    secret: true,
    parse: str(),
  }),
  s3Bucket: v({
    name: 'S3_BUCKET',
    kind: 'string',
    default: 'xray',
    description: 'S3 bucket (created at boot when missing).',
    apps: ALL,
    parse: str(),
  }),
  s3Region: v({
    name: 'S3_REGION',
    kind: 'string',
    default: 'us-east-1',
    description: 'S3 region.',
    apps: ALL,
    parse: str(),
  }),
  s3UseSsl: v({
    name: 'S3_USE_SSL',
    kind: 'bool',
    description: "Force TLS on or off for S3. Default: from S3_ENDPOINT's scheme.",
    apps: ALL,
    parse: bool(),
  }),
  modelDir: v({
    name: 'MODEL_DIR',
    kind: 'string',
    default: 'models/bodypart',
    description: "Model package folder (model-card.json + weights). The CLI's default --model too.",
    apps: WORKERS,
    parse: str(),
  }),
  engine: v({
    name: 'ENGINE',
    kind: 'string',
    default: 'auto',
    description:
      'Inference engine: onnx (ONNX Runtime), tfjs (TensorFlow.js) or auto (ONNX Runtime when the package has model.onnx, see docs/onnx.md). xray classify and explain read it too.',
    apps: WORKERS,
    parse: oneOf(['onnx', 'tfjs', 'auto'] as const),
  }),
  maxUploadBytes: v({
    name: 'MAX_UPLOAD_BYTES',
    kind: 'int',
    default: String(100 * 1024 * 1024),
    description:
      'Largest accepted file in a study upload (413 above), STOW-RS part or C-STORE instance (failure status 0xA700).',
    apps: ['gateway', 'dicom-listener'],
    parse: int(1),
  }),
  maxFilesPerStudy: v({
    name: 'MAX_FILES_PER_STUDY',
    kind: 'int',
    default: '200',
    description: 'Most files in one study upload (413 above).',
    apps: ['gateway'],
    parse: int(1),
  }),
  rateLimitMax: v({
    name: 'RATE_LIMIT_MAX',
    kind: 'int',
    default: '600',
    description: 'Requests per client per window (429 above); 0 disables.',
    apps: ['gateway'],
    parse: int(0),
  }),
  rateLimitWindowMs: v({
    name: 'RATE_LIMIT_WINDOW_MS',
    kind: 'int',
    default: '60000',
    description: 'Rate-limit window.',
    apps: ['gateway'],
    parse: int(1),
  }),
  apiKeyCacheMs: v({
    name: 'API_KEY_CACHE_MS',
    kind: 'int',
    default: '30000',
    description:
      'How long the gateway caches an API key lookup: a revoked or rotated key is refused within this time; 0 disables the cache.',
    apps: ['gateway'],
    parse: int(0),
  }),
  inferenceConcurrency: v({
    name: 'INFERENCE_CONCURRENCY',
    kind: 'int',
    default: '16',
    description: 'Inference jobs one worker holds at once (feeds the batcher; >= INFERENCE_BATCH_SIZE).',
    apps: ['inference-worker'],
    parse: int(1),
  }),
  inferenceBatchSize: v({
    name: 'INFERENCE_BATCH_SIZE',
    kind: 'int',
    default: '8',
    description: 'Largest model batch.',
    apps: ['inference-worker'],
    parse: int(1),
  }),
  inferenceBatchWaitMs: v({
    name: 'INFERENCE_BATCH_WAIT_MS',
    kind: 'int',
    default: '25',
    description: 'How long the first image of a batch waits for others.',
    apps: ['inference-worker'],
    parse: int(0),
  }),
  inferenceDecodeBudgetBytes: v({
    name: 'INFERENCE_DECODE_BUDGET_BYTES',
    kind: 'int',
    default: String(128 * 1024 * 1024),
    description:
      'Bytes of uploaded files one inference worker decodes at once (on top of the INFERENCE_CONCURRENCY count); bounds its memory. A larger file runs alone.',
    apps: ['inference-worker'],
    parse: int(1024 * 1024),
  }),
  explainConcurrency: v({
    name: 'EXPLAIN_CONCURRENCY',
    kind: 'int',
    default: '2',
    description:
      'Explain jobs one worker runs at once (2: the PNG rendering of one overlaps the model run of the next).',
    apps: ['explain-worker'],
    parse: int(1),
  }),
  webhookConcurrency: v({
    name: 'WEBHOOK_CONCURRENCY',
    kind: 'int',
    default: '10',
    description: 'Webhook deliveries the gateway sends at once.',
    apps: ['gateway'],
    parse: int(1),
  }),
  jobAttempts: v({
    name: 'JOB_ATTEMPTS',
    kind: 'int',
    default: '3',
    description: 'Tries of an inference or explain job before it fails.',
    apps: ALL,
    parse: int(1),
  }),
  jobBackoffMs: v({
    name: 'JOB_BACKOFF_MS',
    kind: 'int',
    default: '2000',
    description: 'First retry delay of a job (exponential).',
    apps: ALL,
    parse: int(0),
  }),
  jobLockDurationMs: v({
    name: 'JOB_LOCK_DURATION_MS',
    kind: 'int',
    default: '20000',
    description:
      "BullMQ lock duration, renewed every half of it while a job runs (model work runs off the event loop); a crashed worker's job is taken over once it expires.",
    apps: ALL,
    parse: int(1000),
  }),
  jobStalledIntervalMs: v({
    name: 'JOB_STALLED_INTERVAL_MS',
    kind: 'int',
    default: '10000',
    description: 'How often stalled jobs (lock expired: their worker died) are looked for and retried.',
    apps: ALL,
    parse: int(1000),
  }),
  keepCompletedJobs: v({
    name: 'KEEP_COMPLETED_JOBS',
    kind: 'int',
    default: '1000',
    description: 'Completed jobs kept in Redis per queue.',
    apps: ALL,
    parse: int(0),
  }),
  keepFailedJobs: v({
    name: 'KEEP_FAILED_JOBS',
    kind: 'int',
    default: '5000',
    description: 'Failed jobs kept in Redis per queue.',
    apps: ALL,
    parse: int(0),
  }),
  heartbeatMaxAgeMs: v({
    name: 'HEARTBEAT_MAX_AGE_MS',
    kind: 'int',
    default: '30000',
    description:
      "A worker is not ready when its progress heartbeat (jobs, or a PING through BullMQ's blocking connection every 5 s) is older than this.",
    apps: WORKERS,
    parse: int(10_000),
  }),
  shutdownTimeoutMs: v({
    name: 'SHUTDOWN_TIMEOUT_MS',
    kind: 'int',
    default: '25000',
    description:
      'On SIGTERM, how long the current jobs may run before they are handed back (keep below the pod grace period).',
    apps: ALL,
    parse: int(0),
  }),
  enqueueTimeoutMs: v({
    name: 'ENQUEUE_TIMEOUT_MS',
    kind: 'int',
    default: '1000',
    description:
      'How long an upload waits for Redis to take its jobs; past it the study is still accepted (202) and the queue sweeper enqueues it.',
    apps: ['gateway'],
    parse: int(1),
  }),
  queueSweepIntervalMs: v({
    name: 'QUEUE_SWEEP_INTERVAL_MS',
    kind: 'int',
    default: '10000',
    description: 'How often the gateway looks for instances still queued in Postgres but possibly missing from Redis.',
    apps: ['gateway'],
    parse: int(100),
  }),
  queueSweepAfterMs: v({
    name: 'QUEUE_SWEEP_AFTER_MS',
    kind: 'int',
    default: '20000',
    description:
      'An instance queued for longer than this is enqueued again by the sweeper (its instance id is the job id, so an existing job is never doubled).',
    apps: ['gateway'],
    parse: int(0),
  }),
  storageSweepIntervalMs: v({
    name: 'STORAGE_SWEEP_INTERVAL_MS',
    kind: 'int',
    default: '600000',
    description:
      'How often the gateway removes orphaned storage (objects of studies with no row, unfinished uploads) left by a crash.',
    apps: ['gateway'],
    parse: int(100),
  }),
  storageOrphanAgeMs: v({
    name: 'STORAGE_ORPHAN_AGE_MS',
    kind: 'int',
    default: '3600000',
    description:
      'Orphaned objects and unfinished uploads are removed once unchanged for this long (uploads in flight are younger).',
    apps: ['gateway'],
    parse: int(0),
  }),
  webhookTimeoutMs: v({
    name: 'WEBHOOK_TIMEOUT_MS',
    kind: 'int',
    default: '10000',
    description: 'Timeout of one webhook POST.',
    apps: ['gateway'],
    parse: int(1),
  }),
  webhookMaxAttempts: v({
    name: 'WEBHOOK_MAX_ATTEMPTS',
    kind: 'int',
    default: '12',
    description: 'Webhook tries before the delivery is marked failed (the workers enqueue deliveries with it).',
    apps: ALL,
    parse: int(1),
  }),
  webhookBackoffMs: v({
    name: 'WEBHOOK_BACKOFF_MS',
    kind: 'int',
    default: '1800',
    description: 'First webhook retry delay; doubles each try (defaults: ~1 hour over 12 tries).',
    apps: ALL,
    parse: int(0),
  }),
  webhookAllowPrivate: v({
    name: 'WEBHOOK_ALLOW_PRIVATE',
    kind: 'bool',
    default: 'false',
    description: 'Allow callback URLs that resolve to loopback, private, link-local or unique-local addresses.',
    apps: ['gateway'],
    parse: bool(),
  }),
  // The DICOM listener (docs/dicom.md).
  dicomPort: v({
    name: 'DICOM_PORT',
    kind: 'int',
    default: '11112',
    description: 'TCP port of the DICOM listener (DIMSE C-ECHO and C-STORE).',
    apps: ['dicom-listener'],
    parse: int(0),
  }),
  dicomAeTitle: v({
    name: 'DICOM_AE_TITLE',
    kind: 'string',
    default: 'XRAY',
    description:
      'Our DICOM AE title: the called AE title of the DICOM listener (associations to any other are rejected) and the calling AE title of C-STORE exports.',
    apps: ['gateway', 'dicom-listener'],
    parse: aeTitle(),
  }),
  dicomExportConcurrency: v({
    name: 'DICOM_EXPORT_CONCURRENCY',
    kind: 'int',
    default: '2',
    description: 'DICOM export jobs (one study to one destination) the gateway runs at once.',
    apps: ['gateway'],
    parse: int(1),
  }),
  dicomExportTimeoutMs: v({
    name: 'DICOM_EXPORT_TIMEOUT_MS',
    kind: 'int',
    default: '30000',
    description: 'Timeout of one C-STORE association or STOW-RS request.',
    apps: ['gateway'],
    parse: int(1),
  }),
  dicomExportMaxAttempts: v({
    name: 'DICOM_EXPORT_MAX_ATTEMPTS',
    kind: 'int',
    default: '10',
    description:
      'Tries of a DICOM export job before its deliveries are marked failed (the workers enqueue exports with it).',
    apps: ALL,
    parse: int(1),
  }),
  dicomExportBackoffMs: v({
    name: 'DICOM_EXPORT_BACKOFF_MS',
    kind: 'int',
    default: '5000',
    description: 'First DICOM export retry delay; doubles each try (defaults: ~43 minutes over 10 tries).',
    apps: ALL,
    parse: int(0),
  }),
  dicomMaxAssociations: v({
    name: 'DICOM_MAX_ASSOCIATIONS',
    kind: 'int',
    default: '32',
    description: 'Associations one listener holds at once; more are rejected with "local limit exceeded".',
    apps: ['dicom-listener'],
    parse: int(1),
  }),
  dicomAssociationTimeoutMs: v({
    name: 'DICOM_ASSOCIATION_TIMEOUT_MS',
    kind: 'int',
    default: '30000',
    description: 'How long a new connection may take to send its association request before it is closed.',
    apps: ['dicom-listener'],
    parse: int(1000),
  }),
  dicomIdleTimeoutMs: v({
    name: 'DICOM_IDLE_TIMEOUT_MS',
    kind: 'int',
    default: '60000',
    description: 'Longest silence on an open association before it is aborted.',
    apps: ['dicom-listener'],
    parse: int(1000),
  }),
  dicomStudyStableSeconds: v({
    name: 'DICOM_STUDY_STABLE_SECONDS',
    kind: 'int',
    default: '15',
    description:
      'A study received over DICOM or STOW-RS is complete once no instance arrived for this long and every instance is done.',
    apps: ['gateway', 'dicom-listener'],
    parse: int(1),
  }),
} as const;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

const PROBES = { liveness: OBSERVABILITY_PATHS.live, readiness: OBSERVABILITY_PATHS.ready };

export interface AppSpec {
  defaultPort: number;
  probes: typeof PROBES;
  metricsPath: string;
  /**
   * The named container port Prometheus scrapes: `http` (the app's own port: the workers, which
   * serve nothing else) or `metrics` (METRICS_PORT: the gateway, whose `http` port the Ingress routes).
   */
  metricsPortName: 'http' | 'metrics';
  entry: string;
}

/** The port, probe paths and entry point of each app (ops manifests are checked against these). */
export const APPS: Record<AppName, AppSpec> = {
  gateway: {
    defaultPort: 3000,
    probes: PROBES,
    metricsPath: OBSERVABILITY_PATHS.metrics,
    metricsPortName: 'metrics',
    entry: 'dist/apps/gateway/src/main.js',
  },
  'inference-worker': {
    defaultPort: 3001,
    probes: PROBES,
    metricsPath: OBSERVABILITY_PATHS.metrics,
    metricsPortName: 'http',
    entry: 'dist/apps/inference-worker/src/main.js',
  },
  'explain-worker': {
    defaultPort: 3002,
    probes: PROBES,
    metricsPath: OBSERVABILITY_PATHS.metrics,
    metricsPortName: 'http',
    entry: 'dist/apps/explain-worker/src/main.js',
  },
  'dicom-listener': {
    defaultPort: 3003,
    probes: PROBES,
    metricsPath: OBSERVABILITY_PATHS.metrics,
    metricsPortName: 'http',
    entry: 'dist/apps/dicom-listener/src/main.js',
  },
};

/** Env variables an app reads. */
export function configVarsFor(app: AppName): ConfigVar[] {
  return Object.values(CONFIG_SCHEMA).filter((spec) => (spec.apps as readonly AppName[]).includes(app));
}
