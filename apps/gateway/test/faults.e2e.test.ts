import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import * as path from 'node:path';
import { createDataSource, revokeApiKey } from '@xray/db';
import type { StudyDto } from '@xray/shared';
import {
  makeDeflateBombDicom,
  makePng,
  startSystem,
  ThrowawayPostgres,
  ThrowawayRedis,
  type IssuedClient,
  type RunningSystem,
} from '@xray/testing';
import type { DataSource } from 'typeorm';
import { ApiClient } from './api-client';

/**
 * Faults found by fault injection (issue 13), each reproduced against the running system:
 * the three apps on a private redis-server and a private PostgreSQL cluster that the tests
 * stop and start (the machine's own servers are never touched).
 */
jest.setTimeout(180_000);

let redis: ThrowawayRedis;
let postgres: ThrowawayPostgres;
let system: RunningSystem;
let hospital: IssuedClient;
let api: ApiClient;
let db: DataSource;
let png: Buffer;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([new ThrowawayRedis().start(), new ThrowawayPostgres().start()]);
  system = await startSystem({
    postgresUrl: postgres.url,
    env: {
      REDIS_URL: redis.url,
      MAX_UPLOAD_BYTES: String(16 * 1024 * 1024),
      RATE_LIMIT_MAX: '1000',
      QUEUE_SWEEP_INTERVAL_MS: '1000',
      QUEUE_SWEEP_AFTER_MS: '2000',
    },
  });
  hospital = await system.createClient('hospital-faults');
  api = new ApiClient(system.url, hospital.apiKey);
  db = createDataSource(system.databaseUrl, { poolSize: 1 });
  await db.initialize();
  png = await makePng();
});

afterAll(async () => {
  await db?.destroy();
  await system?.stop();
  await redis?.dispose();
  await postgres?.dispose();
});

/** An open `/v1/events` stream and everything it has received so far. */
async function openEvents(apiKey: string) {
  const controller = new AbortController();
  const res = await fetch(`${system.url}/v1/events?access_token=${apiKey}`, { signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const stream = { text: '', ended: false, close: () => controller.abort() };
  const pump = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stream.text += Buffer.from(value).toString('utf8');
    }
  };
  void pump()
    .catch(() => undefined)
    .finally(() => (stream.ended = true));
  return stream;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const result = await work();
  return [result, Date.now() - started];
}

it('keeps non-ASCII file names (UTF-8 in the multipart header)', async () => {
  const res = await api.submit([{ name: 'Röntgen_胸部.png', bytes: png }]);
  expect(res.status).toBe(202);
  const study: StudyDto = await res.json();
  expect(study.instances[0].filename).toBe('Röntgen_胸部.png');
  expect((await api.json<StudyDto>(`/v1/studies/${study.id}`)).instances[0].filename).toBe('Röntgen_胸部.png');
});

it('closes the event streams of a revoked key within seconds', async () => {
  const viewer = await system.createClient('viewer-revoked');
  const [{ id: keyId }] = await db.query('SELECT id FROM api_keys WHERE client_id = $1', [viewer.clientId]);
  const stream = await openEvents(viewer.apiKey);
  await new Promise((r) => setTimeout(r, 500));
  expect(stream.ended).toBe(false);
  expect(await revokeApiKey(db, keyId)).toBe(true);
  const took = await until('stream closed after revocation', () => stream.ended, 10_000).finally(stream.close);
  expect(took).toBeLessThan(10_000);
});

it('never decodes a deflate bomb on the request path; the worker fails it with CORRUPT_FILE', async () => {
  const bomb = makeDeflateBombDicom(6);
  expect(bomb.length).toBeGreaterThan(5_000_000);
  const res = await api.submit([{ name: 'bomb.dcm', bytes: bomb }]);
  expect(res.status).toBe(202);
  const instanceId = ((await res.json()) as StudyDto).instances[0].id;
  // Several image requests at once, and the liveness probe meanwhile.
  const images = Array.from({ length: 3 }, () => timed(() => api.get(`/v1/instances/${instanceId}/image`)));
  await new Promise((r) => setTimeout(r, 20));
  const [live, liveMs] = await timed(() => fetch(`${system.url}/health/live`));
  const answered = await Promise.all(images);
  expect(live.status).toBe(200);
  expect(liveMs).toBeLessThan(500);
  for (const [image, ms] of answered) {
    expect([409, 422]).toContain(image.status);
    expect((await image.json()).error.code).toMatch(/^(NOT_READY|CORRUPT_FILE)$/);
    expect(ms).toBeLessThan(1000);
  }
  await until(
    'instance failed',
    async () => (await api.json<StudyDto>(`/v1/studies/${await studyOf(instanceId)}`)).instances[0].status === 'failed',
    60_000,
  );
  const study = await api.json<StudyDto>(`/v1/studies/${await studyOf(instanceId)}`);
  expect(study.instances[0].error?.code).toBe('CORRUPT_FILE');
  const [failed, failedMs] = await timed(() => api.get(`/v1/instances/${instanceId}/image`));
  expect([failed.status, (await failed.json()).error.code]).toEqual([422, 'CORRUPT_FILE']);
  expect(failedMs).toBeLessThan(1000);
});

async function studyOf(instanceId: string): Promise<string> {
  const [row] = await db.query('SELECT study_id FROM instances WHERE id = $1', [instanceId]);
  return row.study_id;
}

describe('Redis outage', () => {
  it('answers uploads with 202 within 2 s while Redis is down; the sweeper enqueues them once it is back', async () => {
    await redis.stop();
    try {
      const [res, ms] = await timed(() => api.submit([{ name: 'during-outage.png', bytes: png }]));
      expect(res.status).toBe(202);
      expect(ms).toBeLessThan(2500);
      const study: StudyDto = await res.json();
      await redis.start();
      expect((await api.waitForStudy(study.id, 60_000)).status).toBe('done');
    } finally {
      await redis.start().catch(() => undefined);
    }
  }, 90_000);

  it('keeps live updates after a Redis restart, and readiness reports the dead subscriber', async () => {
    await until('gateway ready', async () => (await fetch(`${system.url}/health/ready`)).status === 200, 30_000);
    const stream = await openEvents(hospital.apiKey);
    try {
      await redis.stop();
      await until(
        'readiness reports the subscriber down',
        async () => {
          const report = await (await fetch(`${system.url}/health/ready`)).json();
          return report.checks?.['status-events']?.status === 'down';
        },
        10_000,
      );
      await new Promise((r) => setTimeout(r, 3000)); // an outage of a few seconds
      await redis.start();
      await until(
        'gateway ready again',
        async () => (await fetch(`${system.url}/health/ready`)).status === 200,
        30_000,
      );
      const study: StudyDto = await (await api.submit([{ name: 'after-restart.png', bytes: png }])).json();
      const done = `"instanceId":"${study.instances[0].id}","status":"done"`;
      await until('status event after the restart', () => stream.text.includes(done), 60_000);
    } finally {
      stream.close();
    }
  });
});

describe('PostgreSQL outage', () => {
  it('answers 503 with Retry-After (not 500) and readiness names postgres; recovers when it is back', async () => {
    await postgres.stop('immediate');
    try {
      const res = await api.get('/v1/studies?limit=1');
      expect([res.status, (await res.json()).error?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const ready = await fetch(`${system.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).down).toEqual(['postgres']);
    } finally {
      await postgres.start();
    }
    await until('gateway ready again', async () => (await fetch(`${system.url}/health/ready`)).status === 200, 30_000);
    expect((await api.get('/v1/studies?limit=1')).status).toBe(200);
  });
});

describe('a worker killed mid-job', () => {
  it('has its job retried and completed by the restarted worker within 45 s (short locks, stalled checks)', async () => {
    // A long batch wait keeps the job active (status classifying) long enough to kill the worker.
    await system.kill('inference-worker', 'SIGTERM');
    await system.restart('inference-worker', { INFERENCE_BATCH_WAIT_MS: '5000' });
    const study: StudyDto = await (await api.submit([{ name: 'killed.png', bytes: png }])).json();
    await until(
      'instance classifying',
      async () => (await api.json<StudyDto>(`/v1/studies/${study.id}`)).instances[0].status === 'classifying',
      20_000,
    );
    await system.kill('inference-worker', 'SIGKILL');
    const killedAt = Date.now();
    await system.restart('inference-worker'); // the default lock and stalled-check settings
    const done = await api.waitForStudy(study.id, 60_000);
    const recoveryMs = Date.now() - killedAt;
    expect(done.instances[0].status).toBe('done');
    expect(recoveryMs).toBeLessThan(45_000);
  }, 240_000);
});

/** Every file and folder under the object store, relative to its root. */
async function storageEntries(): Promise<string[]> {
  const entries = await readdir(system.storageDir, { recursive: true, withFileTypes: true });
  return entries.map((e) => path.relative(system.storageDir, path.join(e.parentPath, e.name))).sort();
}

describe('the gateway killed mid-upload', () => {
  it('leaves a complete original and a partial temp file, which the storage sweep removes, and nothing else', async () => {
    const kept: StudyDto = await (await api.submit([{ name: 'kept.png', bytes: png }])).json();
    await api.waitForStudy(kept.id);
    const before = await storageEntries();

    // Two files: the first sent whole, the second cut off when the gateway dies.
    const boundary = `xray-${randomBytes(8).toString('hex')}`;
    const part = (name: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const { hostname, port } = new URL(system.url);
    const upload = request({
      hostname,
      port,
      path: '/v1/studies',
      method: 'POST',
      headers: {
        authorization: `Bearer ${hospital.apiKey}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
    });
    upload.on('error', () => undefined); // the gateway dies under it
    upload.write(Buffer.concat([Buffer.from(part('first.png')), png, Buffer.from('\r\n')]));
    upload.write(Buffer.concat([Buffer.from(part('second.png')), png.subarray(0, 64), randomBytes(2 * 1024 * 1024)]));
    const newEntries = async () => (await storageEntries()).filter((e) => !before.includes(e));
    await until(
      'an original stored and a temp file in progress',
      async () => {
        const added = await newEntries();
        return added.some((e) => e.endsWith(`${path.sep}original`)) && added.some((e) => e.endsWith('.tmp'));
      },
      15_000,
    );
    await system.kill('gateway', 'SIGKILL');
    upload.destroy();
    expect((await newEntries()).length).toBeGreaterThan(0);

    await system.restart('gateway', { STORAGE_SWEEP_INTERVAL_MS: '500', STORAGE_ORPHAN_AGE_MS: '1000' });
    await until('leftovers swept', async () => (await newEntries()).length === 0, 20_000);
    expect(await storageEntries()).toEqual(before); // the committed study is untouched, no empty folders
    expect((await api.get(`/v1/instances/${kept.instances[0].id}/image`)).status).toBe(200);
  });
});
