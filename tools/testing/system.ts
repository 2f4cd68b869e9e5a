import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, ROOT, writeTinyOnnxTestModel } from './built';
import { TEST_REDIS_URL, testDatabaseUrl, uniqueName } from './resources';

/**
 * The whole system as separate processes, for end-to-end tests (pipeline, web viewer):
 * a fresh database and Redis prefix, migrations, then the gateway and both workers from
 * dist/ (rebuilt first when sources are newer), each on an ephemeral port, started in
 * parallel and awaited until ready. Without `modelDir` a tiny real test model is used, with
 * its ONNX graphs exported, so that the workers run ONNX Runtime (ENGINE=auto) unless told
 * ENGINE=tfjs.
 */
export type SystemApp = 'gateway' | 'inference-worker' | 'explain-worker' | 'dicom-listener';
const DEFAULT_APPS: SystemApp[] = ['gateway', 'inference-worker', 'explain-worker'];

export interface SystemOptions {
  modelDir?: string;
  /** Extra environment for all three apps (e.g. short retry delays). */
  env?: Record<string, string>;
  /** A PostgreSQL server URL (no database) to create the system's database on, e.g. a ThrowawayPostgres. */
  postgresUrl?: string;
  /** Per-app environment on top of `env`. */
  appEnv?: Partial<Record<SystemApp, Record<string, string>>>;
  /** Apps to start (default: gateway and both workers; add 'dicom-listener' for DICOM tests). */
  apps?: SystemApp[];
}

export interface IssuedClient {
  apiKey: string;
  webhookSecret: string;
  clientId: string;
}

export interface RunningSystem {
  url: string;
  databaseUrl: string;
  queuePrefix: string;
  /** The DIMSE port of the DICOM listener (when started). */
  dicomPort: number;
  /** The filesystem object store's root (object keys are paths under it) of all the apps. */
  storageDir: string;
  /** The base URL of one app (the workers serve /health and /metrics). */
  appUrl(app: SystemApp): string;
  /** Where an app's /metrics is served: the workers' own port, the gateway's METRICS_PORT. */
  metricsUrl(app: SystemApp): string;
  createClient(name: string, options?: { admin?: boolean }): Promise<IssuedClient>;
  /** Sends a signal to one app (e.g. SIGKILL mid-job) and waits for it to exit. */
  kill(app: SystemApp, signal?: NodeJS.Signals): Promise<void>;
  /** Starts one app again (after kill), optionally with other environment, and waits until ready. */
  restart(app: SystemApp, env?: Record<string, string>): Promise<void>;
  /** The app's log so far (JSON lines). */
  logs(app: SystemApp): string;
  /** A worker's readiness report (GET /health/ready), e.g. `checks.model.detail.engine`. */
  readiness(
    app: SystemApp,
  ): Promise<{ status: string; checks: Record<string, { status: string; detail?: Record<string, unknown> }> }>;
  stop(): Promise<void>;
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  ensureBuilt();
  const { migrate, createClientWithKey, createDataSource, dropDatabase } = await import('@xray/db');
  const work = mkdtempSync(path.join(os.tmpdir(), 'xray-system-'));
  const databaseName = uniqueName('xray_sys');
  const databaseUrl = options.postgresUrl ? `${options.postgresUrl}/${databaseName}` : testDatabaseUrl(databaseName);
  const queuePrefix = uniqueName('xsys');
  await migrate(databaseUrl);
  const modelDir = options.modelDir ?? (await tinyModel(work));
  const apps = options.apps ?? DEFAULT_APPS;
  const ports: Record<SystemApp, number> = {
    gateway: await freePort(),
    'inference-worker': await freePort(),
    'explain-worker': await freePort(),
    'dicom-listener': await freePort(),
  };
  const dicomPort = await freePort();
  const gatewayMetricsPort = await freePort();
  const url = `http://127.0.0.1:${ports.gateway}`;
  const storageDir = path.join(work, 'objects');
  const baseEnv: Record<string, string> = {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: queuePrefix,
    STORAGE_DIR: storageDir,
    MODEL_DIR: modelDir,
    PUBLIC_URL: url,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_BACKOFF_MS: '200',
    JOB_BACKOFF_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '5000',
    METRICS_PORT: String(gatewayMetricsPort),
    DICOM_PORT: String(dicomPort),
    ...options.env,
  };
  const children = new Map<SystemApp, ChildProcess>();
  const logFile = (app: SystemApp) => path.join(work, `${app}.log`);

  const launch = async (app: SystemApp, extraEnv: Record<string, string> = {}) => {
    const log = createWriteStream(logFile(app), { flags: 'a' });
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...baseEnv, ...options.appEnv?.[app], ...extraEnv, PORT: String(ports[app]) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    children.set(app, child);
    await waitReady(app, `http://127.0.0.1:${ports[app]}`, child, () => readLog(logFile(app)));
  };

  let db: Awaited<ReturnType<typeof openDb>> | undefined;
  const openDb = async () => {
    const ds = createDataSource(databaseUrl, { poolSize: 2 });
    await ds.initialize();
    return ds;
  };

  const stop = async () => {
    await Promise.all([...children.keys()].map((app) => stopChild(children.get(app)!, 'SIGTERM')));
    await db?.destroy();
    await dropDatabase(databaseUrl).catch(() => undefined);
    await deleteRedisPrefix(queuePrefix);
    if (!process.env.XRAY_KEEP_SYSTEM) rmSync(work, { recursive: true, force: true });
  };

  try {
    await Promise.all(apps.map((app) => launch(app)));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    databaseUrl,
    queuePrefix,
    dicomPort,
    storageDir,
    appUrl: (app) => `http://127.0.0.1:${ports[app]}`,
    metricsUrl: (app) => `http://127.0.0.1:${app === 'gateway' ? gatewayMetricsPort : ports[app]}/metrics`,
    async createClient(name, clientOptions = {}) {
      db ??= await openDb();
      const issued = await createClientWithKey(db, { name, admin: clientOptions.admin });
      return { apiKey: issued.apiKey, webhookSecret: issued.webhookSecret, clientId: issued.clientId };
    },
    kill: (app, signal = 'SIGKILL') => stopChild(children.get(app)!, signal),
    restart: (app, env) => launch(app, env),
    logs: (app) => readLog(logFile(app)),
    readiness: async (app) => (await fetch(`http://127.0.0.1:${ports[app]}/health/ready`)).json(),
    stop,
  };
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

async function waitReady(
  app: SystemApp,
  base: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${app} exited during start-up (${child.exitCode ?? child.signalCode}):\n${log().slice(-3000)}`);
    try {
      const res = await fetch(`${base}/health/ready`);
      last = await res.text();
      if (res.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${app} not ready after ${timeoutMs / 1000} s: ${last}\n${log().slice(-3000)}`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

/** A TCP port nothing listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function tinyModel(work: string): Promise<string> {
  const dir = path.join(work, 'model');
  await writeTinyOnnxTestModel(dir);
  return dir;
}

async function deleteRedisPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
