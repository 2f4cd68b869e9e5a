// `npm start`: builds, checks Redis and PostgreSQL, migrates, then runs the gateway and both
// workers as separate processes on this machine until Ctrl-C (signals are forwarded).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const env = { ...process.env };
const redisUrl = env.REDIS_URL || 'redis://127.0.0.1:6379';
const databaseUrl = env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/xray';
const gatewayPort = env.GATEWAY_PORT || '3000';
const say = (line) => console.error(`[start] ${line}`);
const redact = (url) => url.replace(/\/\/[^@/]*@/, '//***@');

function redisAnswers(url) {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 3000 });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', () => (socket.destroy(), done(true))); // +PONG, or -NOAUTH: it is Redis and it answers
    socket.once('timeout', () => (socket.destroy(), done(false)));
    socket.once('error', () => done(false));
  });
}

async function postgresAnswers(url) {
  const { Client } = require('pg');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    return error.code === '28P01' || error.code === '28000' ? `refused the credentials (${error.message})` : false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

say('building (npm run build)');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

const [redisOk, postgresOk] = await Promise.all([redisAnswers(redisUrl), postgresAnswers(databaseUrl)]);
const down = [];
if (!redisOk) down.push(`Redis at ${redact(redisUrl)} is unreachable (set REDIS_URL or start redis-server)`);
if (postgresOk !== true)
  down.push(
    `PostgreSQL at ${redact(databaseUrl)} ${postgresOk || 'is unreachable (set DATABASE_URL or start PostgreSQL)'}`,
  );
if (down.length) {
  for (const line of down) say(`cannot start: ${line}`);
  process.exit(1);
}

say('creating the database if needed and applying migrations');
execFileSync(process.execPath, [join(root, 'bin/xray.js'), 'migrate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...env, DATABASE_URL: databaseUrl },
});

const modelDir = resolve(root, env.MODEL_DIR || 'models/bodypart');
if (!existsSync(modelDir))
  say(
    `warning: no model package at ${modelDir}: the workers stay not-ready until MODEL_DIR points at one (docs/configuration.md)`,
  );

const apps = [
  ['gateway', gatewayPort],
  ['inference-worker', env.INFERENCE_WORKER_PORT || '3001'],
  ['explain-worker', env.EXPLAIN_WORKER_PORT || '3002'],
  // DIMSE on DICOM_PORT (default 11112); this port serves its health and metrics.
  ['dicom-listener', env.DICOM_LISTENER_PORT || '3003'],
];
const children = apps.map(([app, port]) => {
  const child = spawn(process.execPath, [join(root, 'dist/apps', app, 'src/main.js')], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...env,
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      PORT: port,
      PUBLIC_URL: env.PUBLIC_URL || `http://localhost:${gatewayPort}`,
    },
  });
  child.app = app;
  return child;
});

let stopping = false;
function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
let exitCode = 0;
await Promise.all(
  children.map(
    (child) =>
      new Promise((done) =>
        child.once('exit', (code, signal) => {
          if (!stopping) {
            say(`${child.app} exited (${code ?? signal}); stopping the others`);
            exitCode = 1;
            stopAll('SIGTERM');
          }
          done();
        }),
      ),
  ),
  waitForGateway(),
);
process.exit(exitCode);

async function waitForGateway() {
  const url = `http://localhost:${gatewayPort}`;
  for (let i = 0; i < 120 && !stopping; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) {
        say(`gateway ready: ${url} (web viewer at /, API docs at /docs)`);
        say('get an API key:  npx xray apikey create --name demo');
        say(`submit a study:  npx xray submit --url ${url} --key <key> --wait image.dcm`);
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
