import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { sample } from '@xray/platform';
import type { ExplanationLayersDto, StudyDto, WebhookEvent } from '@xray/shared';
import { makeDicom, makePng, startSystem, WebhookReceiver, type IssuedClient, type RunningSystem } from '@xray/testing';
import { ApiClient } from './api-client';

const execFileAsync = promisify(execFile);

/**
 * The three apps as separate processes on the local Redis and Postgres, a local webhook
 * receiver, and real uploads: one running system shared by the cases below.
 */
jest.setTimeout(180_000);

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
let system: RunningSystem;
let receiver: WebhookReceiver;
let hospital: IssuedClient;
let api: ApiClient;
let png: Buffer;
let dicom: Buffer;

beforeAll(async () => {
  receiver = await new WebhookReceiver().start();
  system = await startSystem({
    env: {
      MAX_UPLOAD_BYTES: String(2 * 1024 * 1024),
      RATE_LIMIT_MAX: '200',
      WEBHOOK_MAX_ATTEMPTS: '4',
      API_KEY_CACHE_MS: '500',
    },
  });
  hospital = await system.createClient('hospital-a');
  api = new ApiClient(system.url, hospital.apiKey);
  [png, dicom] = await Promise.all([makePng(), Promise.resolve(makeDicom({ bodyPartExamined: 'CHEST' }))]);
});

afterAll(async () => {
  await system?.stop();
  await receiver?.stop();
});

async function waitForInstances(studyId: string, status: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await api.json<StudyDto>(`/v1/studies/${studyId}`)).instances.some((i) => i.status !== status)) {
    if (Date.now() > deadline) throw new Error(`instances of ${studyId} never all ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The study's webhook deliveries (GET /v1/webhook-deliveries), once `done` holds. */
async function deliveriesOf(studyId: string, done: (list: any[]) => boolean, status?: string): Promise<any[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = await api.json(`/v1/webhook-deliveries?limit=100${status ? `&status=${status}` : ''}`);
    const list = page.items.filter((d: any) => d.studyId === studyId);
    if (list.length > 0 && done(list)) return list;
    if (Date.now() > deadline)
      throw new Error(`deliveries of ${studyId}: ${JSON.stringify(list.map((d: any) => d.status))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function metricsOf(app: 'gateway' | 'inference-worker' | 'explain-worker'): Promise<string> {
  return (await fetch(system.metricsUrl(app))).text();
}

/** Polls until requests with `key` get `status` (the gateway caches keys for API_KEY_CACHE_MS). */
async function expectKeyStatusSoon(key: string, status: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  const statusNow = async () => (await new ApiClient(system.url, key).get('/v1/studies?limit=1')).status;
  let got = await statusNow();
  while (got !== status && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    got = await statusNow();
  }
  expect(got).toBe(status);
}

function expectSigned(call: { headers: Record<string, unknown>; rawBody: string }, secret: string): void {
  const header = String(call.headers['x-signature']);
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('='))) as { t: string; v1: string };
  expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(120);
  expect(v1).toBe(createHmac('sha256', secret).update(`${t}.${call.rawBody}`).digest('hex'));
}

describe('a study from upload to signed webhooks', () => {
  let study: StudyDto;

  it('accepts DICOM and PNG files (and a broken one) with 202 and a Location', async () => {
    const truncated = png.subarray(0, 60); // a PNG signature, then nothing usable
    const res = await api.submit(
      [
        { name: 'chest.dcm', bytes: dicom },
        { name: 'hand.png', bytes: png },
        { name: 'broken.png', bytes: truncated },
      ],
      { callbackUrl: `${receiver.url}/hooks/a`, accessionNumber: 'ACC-0001' },
    );
    expect(res.status).toBe(202);
    study = await res.json();
    expect(res.headers.get('location')).toBe(`/v1/studies/${study.id}`);
    // The answer is read after the jobs are enqueued: a fast worker may already have taken them.
    const onTheWay = expect.stringMatching(/^(queued|classifying|classified|explaining|done)$/);
    expect(study.instances.map((i) => [i.filename, i.status, i.format])).toEqual([
      ['chest.dcm', onTheWay, 'dicom'],
      ['hand.png', onTheWay, 'png'],
      ['broken.png', expect.stringMatching(/^(queued|classifying|failed)$/), 'png'],
    ]);
    expect(study.instances[1].sha256).toBe(require('node:crypto').createHash('sha256').update(png).digest('hex'));
  });

  it('sends study.classified then study.completed, signed with the client secret', async () => {
    const calls = await receiver.waitFor('/hooks/a', (c) => c.some((x) => x.body?.type === 'study.completed'));
    const types = calls.map((c) => c.body.type);
    expect(types).toContain('study.classified');
    expect(types.filter((t) => t === 'study.completed')).toHaveLength(1);
    for (const call of calls) {
      expectSigned(call, hospital.webhookSecret);
      expect(call.headers['x-event-id']).toBe(call.body.id);
    }
    const completed = calls.find((c) => c.body.type === 'study.completed')!.body as WebhookEvent;
    expect(completed.data.study.id).toBe(study.id);
    expect(completed.data.study.instances.map((i) => i.status)).toEqual(['done', 'done', 'failed']);
  });

  it('serves the results: predictions, DICOM facts, model, errors', async () => {
    const done = await api.waitForStudy(study.id);
    expect(done.status).toBe('done');
    const [chest, hand, broken] = done.instances;
    for (const i of [chest, hand]) {
      expect(i.prediction).toMatchObject({
        label: expect.any(String),
        band: expect.stringMatching(/green|orange|red/),
        warnings: [], // this test model has no out-of-distribution statistics
        oodScore: null,
      });
      expect(i.prediction!.top5).toHaveLength(5);
      expect(i.model).toMatchObject({ name: 'tiny-test-model', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(i.preprocessing).toMatchObject({ width: 64, height: 64 });
      expect(i.explanation).toMatchObject({ status: 'done', heatmapUrl: `${system.url}/v1/instances/${i.id}/heatmap` });
    }
    expect(chest.dicom).toMatchObject({ modality: 'CR', bodyPartExamined: 'CHEST', studyDescription: 'XR CHEST PA' });
    expect(hand.dicom).toBeNull();
    expect(broken.error).toMatchObject({ code: 'CORRUPT_FILE' });
    expect(broken.prediction).toBeNull();
  });

  it('serves the rendering, heatmap and overlay as PNGs', async () => {
    const done = await api.json<StudyDto>(`/v1/studies/${study.id}`);
    for (const kind of ['image', 'heatmap', 'overlay']) {
      const res = await api.get(`/v1/instances/${done.instances[0].id}/${kind}`);
      expect([kind, res.status, res.headers.get('content-type')]).toEqual([kind, 200, 'image/png']);
      expect(
        Buffer.from(await res.arrayBuffer())
          .subarray(0, 4)
          .equals(PNG_MAGIC),
      ).toBe(true);
    }
    const missing = await api.get(`/v1/instances/${done.instances[2].id}/heatmap`);
    expect(missing.status).toBe(404);
  });

  it('serves the maps across depth: the layer list, per-layer heatmaps and the animation (rendered once)', async () => {
    const done = await api.json<StudyDto>(`/v1/studies/${study.id}`);
    const id = done.instances[0].id;
    const depth = await api.json<ExplanationLayersDto>(`/v1/instances/${id}/explanations`);
    // The tiny test model: target conv2_relu (16x16), animation conv1_relu (32x32) and conv2_relu.
    expect(depth).toMatchObject({
      instanceId: id,
      classIndex: done.instances[0].prediction!.classIndex,
      targetLayer: 'conv2_relu',
      animationUrl: `${system.url}/v1/instances/${id}/animation`,
    });
    expect(depth.layers.map((l) => [l.name, l.index, l.mapShape, l.target, l.animation])).toEqual([
      ['conv1_relu', 0, [32, 32], false, true],
      ['conv2_relu', 1, [16, 16], true, true],
    ]);
    expect(depth.layers[0].depth).toBeLessThan(depth.layers[1].depth);
    expect(depth.layers[1].depth).toBeLessThan(depth.layerCount);
    for (const layer of depth.layers) {
      expect(layer.peak.x).toBeLessThan(layer.mapShape[1]);
      expect(layer.peak.y).toBeLessThan(layer.mapShape[0]);
      expect(layer.heatmapUrl).toBe(`${system.url}/v1/instances/${id}/heatmap?layer=${layer.name}`);
      const res = await api.get(`/v1/instances/${id}/heatmap?layer=${layer.name}`);
      expect([layer.name, res.status, res.headers.get('content-type')]).toEqual([layer.name, 200, 'image/png']);
      // At the image's own size, like the stored heatmap.
      const stored = await sharp(
        Buffer.from(await (await api.get(`/v1/instances/${id}/heatmap`)).arrayBuffer()),
      ).metadata();
      const drawn = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect([drawn.width, drawn.height]).toEqual([stored.width, stored.height]);
    }
    const unknown = await api.get(`/v1/instances/${id}/heatmap?layer=no_such_layer`);
    expect([unknown.status, (await unknown.json()).error.code]).toEqual([404, 'NOT_FOUND']);

    const webp = await api.get(`/v1/instances/${id}/animation`);
    expect([webp.status, webp.headers.get('content-type')]).toEqual([200, 'image/webp']);
    const webpBytes = Buffer.from(await webp.arrayBuffer());
    const webpMeta = await sharp(webpBytes, { animated: true }).metadata();
    expect(webpMeta).toMatchObject({ format: 'webp', pages: 2 });
    expect(Math.max(webpMeta.width!, webpMeta.pageHeight!)).toBeLessThanOrEqual(384);
    const again = Buffer.from(await (await api.get(`/v1/instances/${id}/animation`)).arrayBuffer());
    expect(again.equals(webpBytes)).toBe(true); // the cached object
    const gif = await api.get(`/v1/instances/${id}/animation`, { Accept: 'image/gif' });
    expect([gif.status, gif.headers.get('content-type')]).toEqual([200, 'image/gif']);
    expect(await sharp(Buffer.from(await gif.arrayBuffer()), { animated: true }).metadata()).toMatchObject({
      format: 'gif',
      pages: 2,
    });

    const failed = done.instances[2].id; // never explained (corrupt upload)
    for (const path of ['explanations', 'animation', 'heatmap?layer=conv1_relu']) {
      const res = await api.get(`/v1/instances/${failed}/${path}`);
      expect([path, res.status, (await res.json()).error.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
  });

  it('runs both workers on ONNX Runtime (ENGINE=auto, the package has model.onnx and gradcam.onnx)', async () => {
    for (const app of ['inference-worker', 'explain-worker'] as const) {
      const { checks } = await system.readiness(app);
      expect([app, checks.model.detail]).toEqual([
        app,
        { engine: 'onnx', backend: 'cpu', threads: expect.any(Number) },
      ]);
    }
  });

  it("exports each worker's model time per phase", async () => {
    for (const [app, phase] of [
      ['inference-worker', 'classify'],
      ['explain-worker', 'explain'],
    ] as const) {
      const count = sample(await metricsOf(app), 'xray_model_time_per_image_seconds_count', { phase }) ?? 0;
      expect({ app, modelTime: count > 0 }).toEqual({ app, modelTime: true });
    }
  });

  it('lists studies newest first with filters and cursor pagination', async () => {
    const second = await (await api.submit([{ name: 'b.png', bytes: png }], { accessionNumber: 'ACC-0002' })).json();
    const page1 = await api.json(`/v1/studies?limit=1`);
    expect(page1.items.map((s: StudyDto) => s.id)).toEqual([second.id]);
    const page2 = await api.json(`/v1/studies?limit=1&cursor=${page1.nextCursor}`);
    expect(page2.items.map((s: StudyDto) => s.id)).toEqual([study.id]);
    expect((await api.json(`/v1/studies?accession=ACC-0001`)).items.map((s: StudyDto) => s.id)).toEqual([study.id]);
    const label = (await api.json<StudyDto>(`/v1/studies/${study.id}`)).instances[0].prediction!.label;
    expect(
      (await api.json(`/v1/studies?label=${encodeURIComponent(label)}&status=done`)).items.map((s: StudyDto) => s.id),
    ).toContain(study.id);
    expect((await api.get('/v1/studies?status=bogus')).status).toBe(400);
  });
});

describe('the API contract', () => {
  it('returns the same study for the same Idempotency-Key', async () => {
    const headers = { 'Idempotency-Key': 'order-42' };
    const first = await api.submit([{ name: 'a.png', bytes: png }], {}, headers);
    const again = await api.submit([{ name: 'a.png', bytes: png }], {}, headers);
    expect([first.status, again.status]).toEqual([202, 200]);
    expect((await again.json()).id).toBe((await first.json()).id);
  });

  it('keeps tenants apart: another client gets 404', async () => {
    const [mine] = (await api.json('/v1/studies?limit=1')).items as StudyDto[];
    const other = new ApiClient(system.url, (await system.createClient('hospital-b')).apiKey);
    expect((await other.get(`/v1/studies/${mine.id}`)).status).toBe(404);
    expect((await other.get(`/v1/instances/${mine.instances[0].id}/image`)).status).toBe(404);
    for (const path of ['explanations', 'animation', 'heatmap?layer=conv1_relu'])
      expect([path, (await other.get(`/v1/instances/${mine.instances[0].id}/${path}`)).status]).toEqual([path, 404]);
    expect((await other.json('/v1/studies')).items).toEqual([]);
    const body = await (await other.get(`/v1/studies/${mine.id}`)).json();
    expect(body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('refuses bad uploads with typed errors', async () => {
    const text = await api.submit([{ name: 'notes.png', bytes: Buffer.from('this is not an image at all') }]);
    expect(text.status).toBe(415);
    expect((await text.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const big = Buffer.concat([png, Buffer.alloc(3 * 1024 * 1024)]);
    const tooBig = await api.submit([{ name: 'big.png', bytes: big }]);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    const badCallback = await api.submit([{ name: 'a.png', bytes: png }], { callbackUrl: 'ftp://example.org/x' });
    expect(badCallback.status).toBe(400);
    const anonymous = await fetch(`${system.url}/v1/studies`);
    expect([anonymous.status, (await anonymous.json()).error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const badKey = await new ApiClient(system.url, 'xr_wrong').get('/v1/studies');
    expect(badKey.status).toBe(401);
  });

  it('publishes the OpenAPI document at /docs', async () => {
    const doc = await (await fetch(`${system.url}/docs-json`)).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/studies',
        '/v1/studies/{id}',
        '/v1/instances/{id}/image',
        '/v1/instances/{id}/explanations',
        '/v1/instances/{id}/animation',
        '/v1/webhook-deliveries',
        '/v1/events',
      ]),
    );
    expect((await fetch(`${system.url}/docs`)).status).toBe(200);
  });

  it("serves the gateway's metrics on METRICS_PORT only: the API port answers 404", async () => {
    expect((await fetch(`${system.url}/metrics`)).status).toBe(404);
    const metrics = await fetch(system.metricsUrl('gateway'));
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('xray_http_request_duration_seconds');
    // The metrics port serves nothing else.
    expect((await fetch(system.metricsUrl('gateway').replace('/metrics', '/v1/studies'))).status).toBe(404);
  });

  it('deletes a study with its results and files', async () => {
    const study = await (await api.submit([{ name: 'gone.png', bytes: png }])).json();
    await api.waitForStudy(study.id);
    const res = await fetch(`${system.url}/v1/studies/${study.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${hospital.apiKey}` },
    });
    expect(res.status).toBe(204);
    expect((await api.get(`/v1/studies/${study.id}`)).status).toBe(404);
    expect((await api.get(`/v1/instances/${study.instances[0].id}/image`)).status).toBe(404);
  });

  it('rate-limits per client with 429', async () => {
    const busy = new ApiClient(system.url, (await system.createClient('busy')).apiKey);
    // Fixed 60 s windows (RATE_LIMIT_WINDOW_MS): keep the burst inside one of them.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 50_000) await new Promise((r) => setTimeout(r, 60_000 - intoWindow + 50));
    const statuses = await Promise.all(
      Array.from({ length: 210 }, () => busy.get('/v1/studies?limit=1').then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 200).length).toBe(200);
    expect((await api.get('/v1/studies?limit=1')).status).toBe(200); // other clients are not affected
  });

  it('streams live status events to the client', async () => {
    const controller = new AbortController();
    const res = await fetch(`${system.url}/v1/events?access_token=${hospital.apiKey}`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const submitted = await (await api.submit([{ name: 'live.png', bytes: png }])).json();
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(`"instanceId":"${submitted.instances[0].id}","status":"done"`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    expect(text).toContain('event: instance.status');
    expect(text).toContain(submitted.instances[0].id);
  });
});

describe('webhook retries', () => {
  it('retries a receiver that fails twice, with the same event id', async () => {
    receiver.failTimes('/hooks/flaky', 2);
    const res = await api.submit([{ name: 'a.png', bytes: png }], { callbackUrl: `${receiver.url}/hooks/flaky` });
    const { id } = await res.json();
    const calls = await receiver.waitFor('/hooks/flaky', (c) => c.filter((x) => x.status === 200).length >= 2);
    const classified = calls.filter((c) => c.body.type === 'study.classified');
    expect(new Set(classified.map((c) => c.headers['x-event-id'])).size).toBe(1);
    const mine = await deliveriesOf(id, (list) => list.every((d) => d.status !== 'pending'));
    expect(mine.map((d: any) => d.status)).toEqual(['delivered', 'delivered']);
    const attempts = mine.map((d: any) => d.attempts.length).sort();
    expect(attempts.reduce((a: number, b: number) => a + b, 0)).toBe(4); // two failures + two successes
  });

  it('marks a delivery failed after the last attempt and lists it', async () => {
    receiver.alwaysFail('/hooks/down');
    const outcomes = async () => {
      const text = await metricsOf('gateway');
      return {
        retrying: sample(text, 'xray_webhook_deliveries_total', { outcome: 'retrying' }) ?? 0,
        failed: sample(text, 'xray_webhook_deliveries_total', { outcome: 'failed' }) ?? 0,
      };
    };
    const before = await outcomes();
    const correlationId = `corr-${Date.now()}`;
    const { id } = await (
      await api.submit(
        [{ name: 'a.png', bytes: png }],
        { callbackUrl: `${receiver.url}/hooks/down` },
        { 'X-Correlation-Id': correlationId },
      )
    ).json();
    const failed = await deliveriesOf(
      id,
      (list) => list.length === 2 && list.every((d) => d.status === 'failed'),
      'failed',
    );
    expect(failed).toHaveLength(2);
    expect(failed[0].attempts).toHaveLength(4);
    expect(failed[0].attempts[0]).toMatchObject({ statusCode: 500, error: 'HTTP 500' });
    // Each attempt counted once with its outcome: 3 retried + 1 final failure per delivery.
    const after = await outcomes();
    expect({ retrying: after.retrying - before.retrying, failed: after.failed - before.failed }).toEqual({
      retrying: 6,
      failed: 2,
    });

    // Operations: an admin key sees every client's deliveries and can send one again.
    const admin = new ApiClient(system.url, (await system.createClient('ops', { admin: true })).apiKey);
    const all = (await admin.json('/v1/webhook-deliveries?status=failed&limit=100')).items.filter(
      (d: any) => d.studyId === id,
    );
    expect(all).toHaveLength(2);
    receiver.failTimes('/hooks/down', 0);
    const retry = await fetch(`${system.url}/v1/webhook-deliveries/${failed[0].id}/retry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${hospital.apiKey}` },
    });
    expect(retry.status).toBe(202);
    const [again] = await deliveriesOf(
      id,
      (list) => list.some((d) => d.id === failed[0].id && d.status === 'delivered'),
      'delivered',
    );
    expect(again.attempts).toHaveLength(5);
    // The retry job carries the study's correlation id, so its logs join the study's trail.
    const webhookQueue = new Queue('webhook', {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: system.queuePrefix,
    });
    try {
      const jobs = await webhookQueue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
      const retried = jobs.filter((j) => j?.id?.startsWith(`${failed[0].id}-retry-`));
      expect(retried.map((j) => j.data.correlationId)).toEqual([correlationId]);
    } finally {
      await webhookQueue.close();
    }
    const other = new ApiClient(system.url, (await system.createClient('other')).apiKey);
    expect((await other.json('/v1/webhook-deliveries')).items).toEqual([]);
  });
});

describe('the xray CLI', () => {
  it('creates API keys (printed once, stored as a hash)', async () => {
    const { stdout } = await execFileAsync(
      process.execPath,
      ['bin/xray.js', 'apikey', 'create', '--name', 'cli-made', '--json'],
      {
        cwd: path.resolve(__dirname, '../../..'),
        env: { ...process.env, DATABASE_URL: system.databaseUrl },
      },
    );
    const issued = JSON.parse(stdout);
    expect(issued).toMatchObject({
      apiKey: expect.stringMatching(/^xr_/),
      webhookSecret: expect.stringMatching(/^whsec_/),
      kind: 'client',
    });
    expect((await new ApiClient(system.url, issued.apiKey).get('/v1/studies')).status).toBe(200);
  });

  it('lists, rotates and revokes API keys: the old key gets 401 from the gateway', async () => {
    const xray = async (...args: string[]) =>
      (
        await execFileAsync(process.execPath, ['bin/xray.js', 'apikey', ...args], {
          cwd: path.resolve(__dirname, '../../..'),
          env: { ...process.env, DATABASE_URL: system.databaseUrl },
        })
      ).stdout;
    const issued = JSON.parse(await xray('create', '--name', 'rotating', '--json'));
    await expectKeyStatusSoon(issued.apiKey, 200);

    const listed = await xray('list', '--json');
    expect(listed).not.toContain(issued.apiKey);
    expect(JSON.parse(listed)).toContainEqual(
      expect.objectContaining({
        id: issued.apiKeyId,
        clientId: issued.clientId,
        kind: 'client',
        prefix: issued.apiKey.slice(0, 10),
        revokedAt: null,
      }),
    );

    const rotated = JSON.parse(await xray('rotate', issued.apiKeyId, '--json'));
    expect(rotated).toMatchObject({
      clientId: issued.clientId,
      revokedApiKeyId: issued.apiKeyId,
      apiKey: expect.stringMatching(/^xr_/),
    });
    await expectKeyStatusSoon(issued.apiKey, 401);
    await expectKeyStatusSoon(rotated.apiKey, 200);
    const keys = JSON.parse(await xray('list', '--json'));
    expect(keys.find((k: any) => k.id === issued.apiKeyId).revokedAt).toEqual(expect.any(String));
    expect(keys.find((k: any) => k.id === rotated.apiKeyId)).toMatchObject({
      clientId: issued.clientId,
      revokedAt: null,
    });

    expect(await xray('revoke', rotated.apiKeyId)).toMatch(/revoked API key/);
    await expectKeyStatusSoon(rotated.apiKey, 401);
    await expect(xray('revoke', rotated.apiKeyId)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no active API key'),
    });
  });

  it('submits files like a hospital system, waits and prints the results', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xray-cli-'));
    writeFileSync(path.join(dir, 'knee.png'), png);
    writeFileSync(path.join(dir, 'chest.dcm'), dicom);
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [
        'bin/xray.js',
        'submit',
        '--url',
        system.url,
        '--key',
        hospital.apiKey,
        '--wait',
        path.join(dir, 'knee.png'),
        path.join(dir, 'chest.dcm'),
      ],
      {
        cwd: path.resolve(__dirname, '../../..'),
      },
    );
    rmSync(dir, { recursive: true, force: true });
    expect(stdout).toMatch(/^study [0-9a-f-]{36}: done$/m);
    expect(stdout).toMatch(/knee\.png: .+ \d+\.\d% \((green|orange|red)\)/);
    expect(stdout).toMatch(/chest\.dcm: .+ \d+\.\d% \((green|orange|red)\)/);
    expect(stderr).toMatch(/upload: \d+\/\d+ bytes/); // progress lines when not on a terminal
  });
});

describe('a worker stopped in the middle of a job', () => {
  it('drains on SIGTERM: the current job finishes before the worker exits', async () => {
    await system.kill('inference-worker');
    await system.restart('inference-worker', { INFERENCE_BATCH_WAIT_MS: '2500' });
    const { id } = await (await api.submit([{ name: 'a.png', bytes: png }])).json();
    await waitForInstances(id, 'classifying');
    await system.kill('inference-worker', 'SIGTERM'); // returns once the process has exited
    const study = await api.json<StudyDto>(`/v1/studies/${id}`);
    expect(study.instances[0].status).not.toBe('classifying');
    expect(study.instances[0].prediction).not.toBeNull();
  });

  it('completes the job once after a restart: no duplicate rows, events or webhooks', async () => {
    const stalledFast = { JOB_LOCK_DURATION_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000' };
    await system.kill('inference-worker');
    // A long batch wait keeps the job active (status classifying) long enough to kill the worker.
    await system.restart('inference-worker', { ...stalledFast, INFERENCE_BATCH_WAIT_MS: '5000' });
    const { id } = await (
      await api.submit(
        [
          { name: 'a.png', bytes: png },
          { name: 'b.dcm', bytes: dicom },
        ],
        { callbackUrl: `${receiver.url}/hooks/kill` },
      )
    ).json();
    await waitForInstances(id, 'classifying');
    await system.kill('inference-worker', 'SIGKILL');
    await system.restart('inference-worker', stalledFast);

    const calls = await receiver.waitFor('/hooks/kill', (c) => c.some((x) => x.body?.type === 'study.completed'));
    const done = await api.waitForStudy(id);
    expect(done.instances.map((i) => i.status)).toEqual(['done', 'done']);
    const { Client } = await import('pg');
    const db = new Client({ connectionString: system.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM predictions p JOIN instances i ON i.id = p.instance_id WHERE i.study_id = $1) AS predictions,
                (SELECT count(*)::int FROM explanations e JOIN instances i ON i.id = e.instance_id WHERE i.study_id = $1) AS explanations,
                (SELECT count(*)::int FROM webhook_events WHERE study_id = $1) AS events`,
        [id],
      );
      expect(rows).toEqual([{ predictions: 2, explanations: 2, events: 2 }]);
    } finally {
      await db.end();
    }
    await new Promise((r) => setTimeout(r, 500)); // any late duplicate delivery would arrive now
    const eventIds = receiver.calls.filter((c) => c.path === '/hooks/kill').map((c) => c.headers['x-event-id']);
    expect(eventIds).toHaveLength(2);
    expect(new Set(eventIds).size).toBe(2);
    expect(calls.map((c) => c.body.type).sort()).toEqual(['study.classified', 'study.completed']);
  });
});

describe('the tfjs engine (ENGINE=tfjs)', () => {
  it('classifies and explains like ONNX Runtime, and exports its tfjs memory', async () => {
    const onnx = (await api.waitForStudy((await (await api.submit([{ name: 'hand.png', bytes: png }])).json()).id))
      .instances[0];
    await Promise.all((['inference-worker', 'explain-worker'] as const).map((app) => system.kill(app, 'SIGTERM')));
    await Promise.all(
      (['inference-worker', 'explain-worker'] as const).map((app) => system.restart(app, { ENGINE: 'tfjs' })),
    );
    for (const app of ['inference-worker', 'explain-worker'] as const) {
      expect([app, (await system.readiness(app)).checks.model.detail]).toEqual([
        app,
        { engine: 'tfjs', backend: 'wasm', threads: expect.any(Number) },
      ]);
    }

    const tfjs = (await api.waitForStudy((await (await api.submit([{ name: 'hand.png', bytes: png }])).json()).id))
      .instances[0];
    expect(tfjs.explanation).toMatchObject({ status: 'done' });
    expect(tfjs.model).toEqual(onnx.model);
    expect(tfjs.prediction!.classIndex).toBe(onnx.prediction!.classIndex);
    expect(Math.abs(tfjs.prediction!.confidence - onnx.prediction!.confidence)).toBeLessThan(1e-4);
    for (const app of ['inference-worker', 'explain-worker'] as const) {
      const text = await metricsOf(app);
      const positive = (name: string) => (sample(text, name, { runtime: 'tfjs' }) ?? 0) > 0;
      expect({
        app,
        bytes: positive('xray_model_runtime_memory_bytes'),
        tensors: positive('xray_model_runtime_tensors'),
      }).toEqual({ app, bytes: true, tensors: true });
    }
  });
});
