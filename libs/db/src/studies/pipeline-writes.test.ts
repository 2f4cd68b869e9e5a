import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import {
  createClientWithKey,
  createDataSource,
  dropDatabase,
  hashApiKey,
  listApiKeys,
  migrate,
  revokeApiKey,
  rotateApiKey,
} from '../index';
import {
  failInstance,
  savePrediction,
  saveExplanation,
  transitionInstance,
  type PredictionInput,
} from './instance.repository';
import { recordStudyProgress, reachedEvents, rollUpStatus } from './study-progress';
import { loadStudyRecords } from './study-records';
import { MIGRATIONS } from '../migrations';

const url = testDatabaseUrl(uniqueName('xray_db_test'));
let ds: DataSource;

beforeAll(async () => {
  expect(await migrate(url)).toEqual(MIGRATIONS.map((m) => m.name));
  expect(await migrate(url)).toEqual([]); // a second run has nothing to do
  ds = createDataSource(url);
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await dropDatabase(url);
});

async function seedStudy(instances: number, callbackUrl: string | null = 'http://127.0.0.1:9/hook') {
  const { clientId } = await createClientWithKey(ds, { name: 'hospital' });
  const studyId = randomUUID();
  await ds.query(
    `INSERT INTO studies (id, client_id, status, priority, callback_url, correlation_id) VALUES ($1, $2, 'queued', 'routine', $3, 'c1')`,
    [studyId, clientId, callbackUrl],
  );
  const ids: string[] = [];
  for (let i = 0; i < instances; i++) {
    const id = randomUUID();
    ids.push(id);
    await ds.query(
      `INSERT INTO instances (id, study_id, client_id, position, filename, status, format, object_key, sha256, size) VALUES ($1, $2, $3, $4, 'a.png', 'queued', 'png', 'k', 's', 10)`,
      [id, studyId, clientId, i],
    );
  }
  return { clientId, studyId, ids };
}

function prediction(instanceId: string): PredictionInput {
  return {
    instanceId,
    model: { name: 'm', version: '1', sha256: 'abc' },
    label: 'Chest',
    classIndex: 3,
    confidence: 0.95,
    band: 'green',
    top5: [{ label: 'Chest', probability: 0.95 }],
    probabilities: [0.95],
    preprocessing: { width: 224, height: 224, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
    dicom: { modality: 'CR' },
    warnings: [],
    oodScore: 1.1,
  };
}

describe('api keys', () => {
  it('stores only the hash of a key', async () => {
    const issued = await createClientWithKey(ds, { name: 'a', admin: true });
    const rows = await ds.query('SELECT key_hash, kind FROM api_keys WHERE client_id = $1', [issued.clientId]);
    expect(rows).toEqual([{ key_hash: hashApiKey(issued.apiKey), kind: 'admin' }]);
    expect(JSON.stringify(rows)).not.toContain(issued.apiKey);
  });

  it('rotates a key: a new key for the same client and kind, the old one revoked, the webhook secret kept', async () => {
    const issued = await createClientWithKey(ds, { name: 'rotating', admin: true });
    const rotated = (await rotateApiKey(ds, issued.apiKeyId))!;
    expect(rotated).toMatchObject({
      clientId: issued.clientId,
      kind: 'admin',
      apiKey: expect.stringMatching(/^xr_admin_/),
    });
    expect(rotated.apiKey).not.toBe(issued.apiKey);
    const active = await ds.query('SELECT id, key_hash FROM api_keys WHERE client_id = $1 AND revoked_at IS NULL', [
      issued.clientId,
    ]);
    expect(active).toEqual([{ id: rotated.apiKeyId, key_hash: hashApiKey(rotated.apiKey) }]);
    const [client] = await ds.query('SELECT webhook_secret FROM clients WHERE id = $1', [issued.clientId]);
    expect(client.webhook_secret).toBe(issued.webhookSecret);
    expect(await rotateApiKey(ds, issued.apiKeyId)).toBeUndefined(); // a revoked key is not rotated twice
  });

  it('revokes a key once and lists keys without the keys themselves', async () => {
    const issued = await createClientWithKey(ds, { name: 'leaving' });
    expect(await revokeApiKey(ds, issued.apiKeyId)).toBe(true);
    expect(await revokeApiKey(ds, issued.apiKeyId)).toBe(false);
    expect(await revokeApiKey(ds, 'not-a-uuid')).toBe(false);
    const listed = await listApiKeys(ds);
    expect(listed.find((k) => k.id === issued.apiKeyId)).toMatchObject({
      clientId: issued.clientId,
      clientName: 'leaving',
      kind: 'client',
      prefix: issued.apiKey.slice(0, 10),
      revokedAt: expect.any(Date),
    });
    expect(JSON.stringify(listed)).not.toContain(issued.apiKey);
  });
});

describe('study status and events', () => {
  it('rolls up instance statuses', () => {
    expect(rollUpStatus(['queued', 'queued'])).toBe('queued');
    expect(rollUpStatus(['classifying', 'queued'])).toBe('processing');
    expect(rollUpStatus(['classified', 'failed'])).toBe('classified');
    expect(rollUpStatus(['done', 'failed'])).toBe('done');
    expect(rollUpStatus(['failed', 'failed'])).toBe('failed');
    expect(reachedEvents(['classified', 'explaining'])).toEqual(['study.classified']);
    expect(reachedEvents(['done', 'failed'])).toEqual(['study.classified', 'study.completed']);
    expect(reachedEvents(['failed'])).toEqual(['study.failed']);
  });

  it('writes each prediction, explanation and event once however often a job runs', async () => {
    const { studyId, ids } = await seedStudy(2);
    for (const id of ids) expect(await transitionInstance(ds, id, ['queued', 'classifying'], 'classifying')).toBe(true);
    const p1 = await savePrediction(ds, prediction(ids[0]));
    expect(await savePrediction(ds, prediction(ids[0]))).toBe(p1); // the job ran twice
    expect((await recordStudyProgress(ds, studyId)).pendingDeliveryIds).toEqual([]);
    await failInstance(ds, ids[1], 'CORRUPT_FILE', 'cut short');

    // Two workers finishing at once both record progress: still one event.
    const [a, b] = await Promise.all([recordStudyProgress(ds, studyId), recordStudyProgress(ds, studyId)]);
    expect(a.status).toBe('classified');
    expect(a.pendingDeliveryIds).toEqual(b.pendingDeliveryIds);
    expect(a.pendingDeliveryIds).toHaveLength(1);

    await saveExplanation(ds, {
      predictionId: p1,
      instanceId: ids[0],
      status: 'done',
      layer: 'out_relu',
      heatmapKey: 'h',
      overlayKey: 'o',
    });
    await saveExplanation(ds, {
      predictionId: p1,
      instanceId: ids[0],
      status: 'done',
      layer: 'out_relu',
      heatmapKey: 'h',
      overlayKey: 'o',
    });
    const done = await recordStudyProgress(ds, studyId);
    expect(done.status).toBe('done');
    // The study.classified delivery recorded earlier is still pending: returned again, with the new study.completed one.
    expect(done.pendingDeliveryIds).toHaveLength(2);
    expect(done.pendingDeliveryIds[0]).toBe(a.pendingDeliveryIds[0]);
    expect((await recordStudyProgress(ds, studyId)).pendingDeliveryIds).toEqual(done.pendingDeliveryIds);
    await ds.query(`UPDATE webhook_deliveries SET status = 'delivered' WHERE id = $1`, [a.pendingDeliveryIds[0]]);
    expect((await recordStudyProgress(ds, studyId)).pendingDeliveryIds).toEqual([done.pendingDeliveryIds[1]]);

    const counts = await ds.query(
      `SELECT (SELECT count(*)::int FROM predictions p JOIN instances i ON i.id = p.instance_id WHERE i.study_id = $1) AS predictions,
              (SELECT count(*)::int FROM explanations e JOIN instances i ON i.id = e.instance_id WHERE i.study_id = $1) AS explanations,
              (SELECT count(*)::int FROM webhook_events WHERE study_id = $1) AS events,
              (SELECT count(*)::int FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE e.study_id = $1) AS deliveries`,
      [studyId],
    );
    expect(counts).toEqual([{ predictions: 1, explanations: 1, events: 2, deliveries: 2 }]);
    const events = await ds.query('SELECT type, payload FROM webhook_events WHERE study_id = $1 ORDER BY created_at', [
      studyId,
    ]);
    expect(events.map((e: { type: string }) => e.type)).toEqual(['study.classified', 'study.completed']);
    // Each event keeps the study as it was then, without links (the sender adds them).
    expect(events[0].payload.data.study.instances[0].prediction.explanation).toEqual({
      status: 'pending',
      layer: null,
    });
    expect(events[1].payload.data.study.instances[0].prediction.explanation).toEqual({
      status: 'done',
      layer: 'out_relu',
    });
    expect(JSON.stringify(events)).not.toContain('/v1/instances/');
  });

  it('keeps the out-of-distribution warning and score of a prediction', async () => {
    const { studyId, ids } = await seedStudy(1, null);
    await savePrediction(ds, { ...prediction(ids[0]), warnings: ['out-of-distribution'], oodScore: 2.7 });
    const [record] = await loadStudyRecords(ds, [studyId]);
    expect(record.instances[0].prediction).toMatchObject({ warnings: ['out-of-distribution'], oodScore: 2.7 });
  });

  it('does not let a late duplicate undo a later state', async () => {
    const { ids } = await seedStudy(1);
    await savePrediction(ds, prediction(ids[0]));
    expect(await failInstance(ds, ids[0], 'INTERNAL', 'late')).toBe(false);
    expect(await transitionInstance(ds, ids[0], ['queued', 'classifying'], 'classifying')).toBe(false);
  });

  it('never lets a recorder that read older statuses write last (a retried job racing the explain job)', async () => {
    for (let round = 0; round < 10; round++) {
      const { studyId, ids } = await seedStudy(1, null);
      await ds.query(`UPDATE instances SET status = 'explaining' WHERE id = $1`, [ids[0]]);
      // Stale recorders (reading 'explaining') run while the instance becomes done and is recorded, as the explain job does.
      const stale = Array.from({ length: 8 }, () => recordStudyProgress(ds, studyId));
      const explained = transitionInstance(ds, ids[0], ['explaining'], 'done').then(() =>
        recordStudyProgress(ds, studyId),
      );
      await Promise.all([...stale, explained]);
      const [{ status }] = await ds.query('SELECT status FROM studies WHERE id = $1', [studyId]);
      expect([round, status]).toEqual([round, 'done']);
    }
  });

  it('loads the record of a study', async () => {
    const { studyId, ids } = await seedStudy(1, null);
    const predictionId = await savePrediction(ds, prediction(ids[0]));
    const [record] = await loadStudyRecords(ds, [studyId]);
    expect(record.instances[0]).toMatchObject({
      id: ids[0],
      status: 'classified',
      prediction: {
        label: 'Chest',
        classIndex: 3,
        band: 'green',
        model: { name: 'm', version: '1', sha256: 'abc' },
        explanation: { status: 'pending', layer: null },
        warnings: [],
        oodScore: 1.1,
      },
      dicom: { modality: 'CR' },
    });
    expect(predictionId).toBeTruthy();
    expect((await recordStudyProgress(ds, studyId)).pendingDeliveryIds).toEqual([]); // no callback URL, no events
  });
});
