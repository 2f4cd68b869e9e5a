import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import {
  addDicomNode,
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
  const { pendingDeliveryIds } = await recordStudyProgress(ds, studyId);
  // study.classified and study.completed, both reached at once.
  expect(pendingDeliveryIds.length).toBe(2);
  const deliveries = await ds.query('SELECT url FROM webhook_deliveries WHERE id = ANY($1)', [pendingDeliveryIds]);
  expect(deliveries.map((d: any) => d.url)).toEqual(['https://ris.example.org/hook', 'https://ris.example.org/hook']);
});

it('registers DICOM nodes once per AE title', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'nodes' });
  expect(await addDicomNode(ds, { clientId, aeTitle: 'CR1', host: '10.0.0.1' })).toMatchObject({ aeTitle: 'CR1' });
  expect(await addDicomNode(ds, { clientId, aeTitle: 'CR1' })).toBeUndefined();
  expect(await findDicomNode(ds, 'CR1')).toMatchObject({ clientId, host: '10.0.0.1', clientName: 'nodes' });
});
