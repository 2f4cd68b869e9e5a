import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import {
  addDicomNode,
  completeStableStudy,
  createClientWithKey,
  createDataSource,
  dropDatabase,
  findDicomNode,
  findInstanceBySopUid,
  migrate,
  recordDicomInstance,
  recordStudyProgress,
  setClientWebhookUrl,
} from '../index';

const url = testDatabaseUrl(uniqueName('xray_db_dicom'));
let ds: DataSource;

beforeAll(async () => {
  await migrate(url);
  ds = createDataSource(url);
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await dropDatabase(url);
});

function instance(sopInstanceUid: string) {
  const instanceId = randomUUID();
  return {
    instanceId,
    sopInstanceUid,
    filename: `${sopInstanceUid}.dcm`,
    objectKey: `k/${instanceId}`,
    sha256: 's',
    size: 1,
  };
}

describe('recordDicomInstance', () => {
  it('groups per client by StudyInstanceUID, dedupes by SOPInstanceUID, numbers positions under concurrency', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'a' });
    const other = await createClientWithKey(ds, { name: 'b' });
    const study = { studyInstanceUid: '1.2.3', accessionNumber: 'ACC1' };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        recordDicomInstance(ds, {
          clientId,
          proposedStudyId: randomUUID(),
          study,
          instance: instance(`1.2.3.${i}`),
          correlationId: 'c',
        }),
      ),
    );
    expect(new Set(results.map((r) => r.studyId)).size).toBe(1);
    const positions = await ds.query('SELECT position FROM instances WHERE study_id = $1 ORDER BY 1', [
      results[0].studyId,
    ]);
    expect(positions.map((p: any) => p.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const again = await recordDicomInstance(ds, {
      clientId,
      proposedStudyId: randomUUID(),
      study,
      instance: instance('1.2.3.0'),
      correlationId: 'c',
    });
    expect(again).toEqual({ studyId: results[0].studyId, duplicate: true });
    // Another client's identical UIDs are its own study.
    const theirs = await recordDicomInstance(ds, {
      clientId: other.clientId,
      proposedStudyId: randomUUID(),
      study,
      instance: instance('1.2.3.0'),
      correlationId: 'c',
    });
    expect(theirs.duplicate).toBe(false);
    expect(theirs.studyId).not.toBe(results[0].studyId);
    expect(await findInstanceBySopUid(ds, clientId, '1.2.3.0')).toMatchObject({ studyId: results[0].studyId });
  });

  it('reopens a finished study when a late instance arrives', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'late' });
    const study = { studyInstanceUid: '9.9', accessionNumber: null };
    const first = await recordDicomInstance(ds, {
      clientId,
      proposedStudyId: randomUUID(),
      study,
      instance: instance('9.9.1'),
      correlationId: 'c',
    });
    await ds.query(`UPDATE instances SET status = 'done' WHERE study_id = $1`, [first.studyId]);
    await ds.query(`UPDATE studies SET status = 'done' WHERE id = $1`, [first.studyId]);
    await recordDicomInstance(ds, {
      clientId,
      proposedStudyId: randomUUID(),
      study,
      instance: instance('9.9.2'),
      correlationId: 'c',
    });
    expect((await ds.query('SELECT status FROM studies WHERE id = $1', [first.studyId]))[0].status).toBe('processing');
  });
});

it("webhooks of a study without callbackUrl go to the client's default webhook URL", async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'default-hook' });
  await setClientWebhookUrl(ds, clientId, 'https://ris.example.org/hook');
  const { studyId } = await recordDicomInstance(ds, {
    clientId,
    proposedStudyId: randomUUID(),
    study: { studyInstanceUid: '7.7', accessionNumber: null },
    instance: instance('7.7.1'),
    correlationId: 'c',
  });
  await ds.query(`UPDATE instances SET status = 'done' WHERE study_id = $1`, [studyId]);
  const progress = await recordStudyProgress(ds, studyId);
  // study.classified now; study.completed waits for the study-stable check.
  expect(progress.pendingDeliveryIds.length).toBe(1);
  expect(progress.awaitsStable).toBe(true);
  const completed = await completeStableStudy(ds, studyId, 0);
  expect(completed.state).toBe('completed');
  const ids = [
    ...progress.pendingDeliveryIds,
    ...(completed.state === 'completed' ? completed.pendingDeliveryIds : []),
  ];
  const deliveries = await ds.query('SELECT url FROM webhook_deliveries WHERE id = ANY($1)', [ids]);
  expect(deliveries.map((d: any) => d.url)).toEqual(['https://ris.example.org/hook', 'https://ris.example.org/hook']);
});

describe('completeStableStudy (the study-stable rule)', () => {
  async function events(studyId: string): Promise<Array<{ type: string; generation: number }>> {
    return ds.query('SELECT type, generation FROM webhook_events WHERE study_id = $1 ORDER BY generation, type', [
      studyId,
    ]);
  }

  it('waits for the quiet time and for every instance, completes once per generation, reopens on a late instance', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'stable' });
    await setClientWebhookUrl(ds, clientId, 'https://ris.example.org/hook');
    const study = { studyInstanceUid: '5.5', accessionNumber: null };
    const record = (uid: string) =>
      recordDicomInstance(ds, {
        clientId,
        proposedStudyId: randomUUID(),
        study,
        instance: instance(uid),
        correlationId: 'c',
      });
    const { studyId } = await record('5.5.1');
    await record('5.5.2');

    // Just arrived: not quiet for 60 s.
    const waiting = await completeStableStudy(ds, studyId, 60_000);
    expect(waiting.state).toBe('waiting');
    expect(waiting.state === 'waiting' && waiting.retryInMs).toBeGreaterThan(50_000);
    // Quiet, but an instance is still queued.
    expect(await completeStableStudy(ds, studyId, 0)).toEqual({ state: 'processing' });

    await ds.query(`UPDATE instances SET status = 'done' WHERE study_id = $1`, [studyId]);
    expect((await recordStudyProgress(ds, studyId)).awaitsStable).toBe(true);
    expect((await completeStableStudy(ds, studyId, 0)).state).toBe('completed');
    // Checked again: nothing new.
    expect(await completeStableStudy(ds, studyId, 0)).toEqual({ state: 'settled' });
    expect((await recordStudyProgress(ds, studyId)).awaitsStable).toBe(false);
    expect(await events(studyId)).toEqual([
      { type: 'study.classified', generation: 0 },
      { type: 'study.completed', generation: 0 },
    ]);

    // A re-send changes nothing; a late instance opens generation 1.
    expect((await record('5.5.1')).duplicate).toBe(true);
    expect(await completeStableStudy(ds, studyId, 0)).toEqual({ state: 'settled' });
    await record('5.5.3');
    expect((await ds.query('SELECT status, generation FROM studies WHERE id = $1', [studyId]))[0]).toEqual({
      status: 'processing',
      generation: 1,
    });
    expect(await completeStableStudy(ds, studyId, 0)).toEqual({ state: 'processing' });
    await ds.query(`UPDATE instances SET status = 'failed' WHERE study_id = $1 AND sop_instance_uid = '5.5.3'`, [
      studyId,
    ]);
    await recordStudyProgress(ds, studyId);
    const second = await completeStableStudy(ds, studyId, 0);
    expect(second.state === 'completed' && second.pendingDeliveryIds.length).toBe(1);
    expect(await events(studyId)).toEqual([
      { type: 'study.classified', generation: 0 },
      { type: 'study.completed', generation: 0 },
      { type: 'study.classified', generation: 1 },
      { type: 'study.completed', generation: 1 },
    ]);
    // The second event's snapshot holds all three instances.
    const [latest] = await ds.query(
      `SELECT payload FROM webhook_events WHERE study_id = $1 AND type = 'study.completed' AND generation = 1`,
      [studyId],
    );
    expect(latest.payload.data.study.instances).toHaveLength(3);
  });

  it('a completion check and a late instance never both miss: the instance either delays it or opens the next generation', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'race' });
    await setClientWebhookUrl(ds, clientId, 'https://ris.example.org/hook');
    const study = { studyInstanceUid: '6.6', accessionNumber: null };
    const record = (uid: string) =>
      recordDicomInstance(ds, {
        clientId,
        proposedStudyId: randomUUID(),
        study,
        instance: instance(uid),
        correlationId: 'c',
      });
    const { studyId } = await record('6.6.1');
    await ds.query(`UPDATE instances SET status = 'done' WHERE study_id = $1`, [studyId]);
    const [check] = await Promise.all([completeStableStudy(ds, studyId, 0), record('6.6.2')]);
    const [row] = await ds.query('SELECT generation, completed_generation FROM studies WHERE id = $1', [studyId]);
    if (check.state === 'completed') expect(row).toEqual({ generation: 1, completed_generation: 0 });
    else expect(row).toEqual({ generation: 0, completed_generation: null });
  });
});

it('registers DICOM nodes once per AE title', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'nodes' });
  expect(await addDicomNode(ds, { clientId, aeTitle: 'CR1', host: '10.0.0.1' })).toMatchObject({ aeTitle: 'CR1' });
  expect(await addDicomNode(ds, { clientId, aeTitle: 'CR1' })).toBeUndefined();
  expect(await findDicomNode(ds, 'CR1')).toMatchObject({ clientId, host: '10.0.0.1', clientName: 'nodes' });
});
