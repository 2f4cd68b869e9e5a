import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import {
  createClientWithKey,
  createDataSource,
  deleteStudy,
  dropDatabase,
  findActiveApiKey,
  findDeliveryToSend,
  findInstanceImageKeys,
  findStaleQueuedInstances,
  findStudyIdByIdempotencyKey,
  hashApiKey,
  insertAuditRecord,
  insertInstances,
  insertStudy,
  isStudyOwnedBy,
  listDeliveries,
  listStudyIds,
  loadStudyRecords,
  markDeliveryFailed,
  migrate,
  nextDeliveryAttempt,
  recordDeliveryAttempt,
  recordStudyProgress,
  reopenFailedDelivery,
  revokeApiKey,
  saveExplanation,
  savePrediction,
  transitionInstance,
  type NewInstance,
  type NewStudy,
} from './index';

const url = testDatabaseUrl(uniqueName('xray_repos_test'));
let ds: DataSource;

beforeAll(async () => {
  await migrate(url);
  ds = createDataSource(url, { poolSize: 2 });
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await dropDatabase(url);
});

function newStudy(clientId: string, fields: Partial<NewStudy> = {}): NewStudy {
  return {
    id: randomUUID(),
    clientId,
    priority: 'routine',
    accessionNumber: null,
    callbackUrl: null,
    idempotencyKey: null,
    correlationId: 'corr',
    ...fields,
  };
}

function newInstance(position: number): NewInstance {
  return {
    id: randomUUID(),
    position,
    filename: `f${position}.png`,
    format: 'png',
    objectKey: `k${position}`,
    sha256: 's',
    size: 10,
  };
}

describe('clients and keys', () => {
  it('finds an active key by its hash, and no longer once revoked', async () => {
    const issued = await createClientWithKey(ds, { name: 'auth' });
    expect(await findActiveApiKey(ds, hashApiKey(issued.apiKey))).toEqual({
      id: issued.apiKeyId,
      clientId: issued.clientId,
      kind: 'client',
    });
    await revokeApiKey(ds, issued.apiKeyId);
    expect(await findActiveApiKey(ds, hashApiKey(issued.apiKey))).toBeUndefined();
  });
});

describe('studies', () => {
  it('registers a study with its instances, once per idempotency key', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'ingest' });
    const study = newStudy(clientId, { idempotencyKey: 'k1', accessionNumber: 'ACC-1', priority: 'stat' });
    await insertStudy(ds, study, [newInstance(0), newInstance(1)]);
    await insertInstances(ds, study, [newInstance(2)]);
    expect(await findStudyIdByIdempotencyKey(ds, clientId, 'k1')).toBe(study.id);
    await expect(insertStudy(ds, newStudy(clientId, { idempotencyKey: 'k1' }), [])).rejects.toMatchObject({
      code: '23505',
    });
    const [record] = await loadStudyRecords(ds, [study.id]);
    expect(record).toMatchObject({ id: study.id, status: 'queued', priority: 'stat', accessionNumber: 'ACC-1' });
    expect(record.instances.map((i) => [i.filename, i.status, i.size, i.prediction])).toEqual([
      ['f0.png', 'queued', 10, null],
      ['f1.png', 'queued', 10, null],
      ['f2.png', 'queued', 10, null],
    ]);
  });

  it('lists a client only its own studies, filtered and paged by keyset', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'lister' });
    const other = await createClientWithKey(ds, { name: 'other' });
    const ids: string[] = [];
    for (const accession of ['AB-1', 'AB-2', 'CD-1']) {
      const study = newStudy(clientId, { accessionNumber: accession });
      ids.push(study.id);
      await insertStudy(ds, study, [newInstance(0)]);
    }
    await insertStudy(ds, newStudy(other.clientId), []);
    const all = await listStudyIds(ds, { clientId, limit: 10 });
    expect(all.map((s) => s.id)).toEqual([...ids].reverse());
    const ab = await listStudyIds(ds, { clientId, accessionPrefix: 'ab', limit: 10 });
    expect(ab.map((s) => s.id)).toEqual([ids[1], ids[0]]);
    const next = await listStudyIds(ds, { clientId, before: all[0], limit: 1 });
    expect(next.map((s) => s.id)).toEqual([ids[1]]);
    expect(await listStudyIds(ds, { clientId, status: 'done', limit: 10 })).toEqual([]);
    expect(await isStudyOwnedBy(ds, ids[0], clientId)).toBe(true);
    expect(await isStudyOwnedBy(ds, ids[0], other.clientId)).toBe(false);
    await deleteStudy(ds, ids[0], other.clientId); // not theirs: nothing happens
    expect(await isStudyOwnedBy(ds, ids[0], clientId)).toBe(true);
    await deleteStudy(ds, ids[0], clientId);
    expect(await isStudyOwnedBy(ds, ids[0], clientId)).toBe(false);
  });

  it('finds instances left queued and the image keys of an instance', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'sweep' });
    const study = newStudy(clientId, { priority: 'stat' });
    const [queued, claimed] = [newInstance(0), newInstance(1)];
    await insertStudy(ds, study, [queued, claimed]);
    await transitionInstance(ds, claimed.id, ['queued'], 'classifying');
    const stale = await findStaleQueuedInstances(ds, -1, 10_000);
    expect(stale.filter((s) => s.studyId === study.id)).toEqual([
      { instanceId: queued.id, studyId: study.id, clientId, objectKey: 'k0', correlationId: 'corr', priority: 'stat' },
    ]);
    expect(await findInstanceImageKeys(ds, clientId, queued.id)).toEqual({
      id: queued.id,
      studyId: study.id,
      objectKey: 'k0',
      status: 'queued',
      errorCode: null,
      errorMessage: null,
      heatmapKey: null,
      overlayKey: null,
      explainedPredictionId: null,
    });
    expect(await findInstanceImageKeys(ds, randomUUID(), queued.id)).toBeUndefined();
  });

  it('names the prediction whose explanation is done (the maps across depth are stored under it)', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'explained' });
    const study = newStudy(clientId);
    const instance = newInstance(0);
    await insertStudy(ds, study, [instance]);
    const predictionId = await savePrediction(ds, {
      instanceId: instance.id,
      model: { name: 'm', version: '1', sha256: 'abc' },
      label: 'Chest',
      classIndex: 3,
      confidence: 0.95,
      band: 'green',
      top5: [{ label: 'Chest', probability: 0.95 }],
      probabilities: [0.95],
      preprocessing: { width: 224, height: 224, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
      dicom: null,
      warnings: [],
      oodScore: null,
    });
    expect((await findInstanceImageKeys(ds, clientId, instance.id))?.explainedPredictionId).toBeNull();
    await saveExplanation(ds, {
      predictionId,
      instanceId: instance.id,
      status: 'failed',
      errorCode: 'X',
      errorMessage: 'x',
    });
    expect((await findInstanceImageKeys(ds, clientId, instance.id))?.explainedPredictionId).toBeNull();
    await saveExplanation(ds, {
      predictionId,
      instanceId: instance.id,
      status: 'done',
      layer: 'out_relu',
      heatmapKey: 'h',
      overlayKey: 'o',
    });
    expect(await findInstanceImageKeys(ds, clientId, instance.id)).toMatchObject({
      heatmapKey: 'h',
      overlayKey: 'o',
      explainedPredictionId: predictionId,
    });
  });
});

describe('webhook deliveries and audit', () => {
  it('records attempts once, lists deliveries per client and reopens a failed one', async () => {
    const { clientId, webhookSecret } = await createClientWithKey(ds, { name: 'hooks' });
    const study = newStudy(clientId, { callbackUrl: 'http://127.0.0.1:9/hook', correlationId: 'corr-hooks' });
    const instance = newInstance(0);
    await insertStudy(ds, study, [instance]);
    await ds.query(`UPDATE instances SET status = 'failed' WHERE id = $1`, [instance.id]);
    const { pendingDeliveryIds } = await recordStudyProgress(ds, study.id);
    expect(pendingDeliveryIds).toHaveLength(1);
    const [deliveryId] = pendingDeliveryIds;

    const toSend = (await findDeliveryToSend(ds, deliveryId))!;
    expect(toSend).toMatchObject({ url: 'http://127.0.0.1:9/hook', status: 'pending', webhookSecret });
    expect(toSend.event).toMatchObject({ type: 'study.failed', data: { study: { id: study.id, status: 'failed' } } });

    const attempt = await nextDeliveryAttempt(ds, deliveryId);
    expect(attempt).toBe(1);
    const result = { statusCode: 500, error: 'HTTP 500', durationMs: 3 };
    await recordDeliveryAttempt(ds, deliveryId, attempt, result);
    await recordDeliveryAttempt(ds, deliveryId, attempt, result); // a re-run job: still one row
    await markDeliveryFailed(ds, deliveryId, 'HTTP 500');

    const [listed] = await listDeliveries(ds, { clientId, limit: 10 });
    expect(listed).toMatchObject({
      id: deliveryId,
      eventType: 'study.failed',
      studyId: study.id,
      status: 'failed',
      lastError: 'HTTP 500',
      attempts: [{ attempt: 1, statusCode: 500, error: 'HTTP 500', durationMs: 3 }],
    });
    expect(await listDeliveries(ds, { clientId, status: 'pending', limit: 10 })).toEqual([]);
    expect(await listDeliveries(ds, { clientId: randomUUID(), limit: 10 })).toEqual([]);

    expect(await reopenFailedDelivery(ds, deliveryId, randomUUID())).toBeUndefined(); // another client's
    expect(await reopenFailedDelivery(ds, deliveryId, clientId)).toEqual({ correlationId: 'corr-hooks' });
    expect(await reopenFailedDelivery(ds, deliveryId, undefined)).toBeUndefined(); // pending now
  });

  it('appends audit records', async () => {
    const { clientId, apiKeyId } = await createClientWithKey(ds, { name: 'audited' });
    const record = { clientId, apiKeyId, action: 'study.read', resourceId: 'r1', correlationId: 'c', ip: '127.0.0.1' };
    await insertAuditRecord(ds, record);
    const rows = await ds.query(
      'SELECT client_id, api_key_id, action, resource_id, correlation_id, ip FROM audit_log WHERE client_id = $1',
      [clientId],
    );
    expect(rows).toEqual([
      {
        client_id: clientId,
        api_key_id: apiKeyId,
        action: 'study.read',
        resource_id: 'r1',
        correlation_id: 'c',
        ip: '127.0.0.1',
      },
    ]);
  });
});
