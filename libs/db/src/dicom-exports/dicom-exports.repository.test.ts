import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import {
  addDestination,
  countDicomDeliveryAttempt,
  createClientWithKey,
  createDataSource,
  dropDatabase,
  findDicomObject,
  insertStudy,
  listDicomDeliveries,
  listStudyDicomObjects,
  markDicomDeliveriesFailed,
  markDicomDeliveryDelivered,
  markDicomObjectBuilt,
  migrate,
  pendingDicomDeliveries,
  recordStudyDicomObjects,
  removeDestination,
  reopenFailedDicomDelivery,
  resolveClient,
} from '../index';

/** The DICOM export aggregate on a real Postgres: destinations, objects, deliveries. */
const url = testDatabaseUrl(uniqueName('xray_dicom_exports'));
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

async function completedStudy(clientId: string): Promise<{ studyId: string; instanceIds: string[] }> {
  const studyId = randomUUID();
  const instanceIds = [randomUUID(), randomUUID()];
  await insertStudy(
    ds,
    {
      id: studyId,
      clientId,
      priority: 'routine',
      accessionNumber: null,
      callbackUrl: null,
      idempotencyKey: null,
      correlationId: 'corr-dicom',
    },
    instanceIds.map((id, position) => ({
      id,
      position,
      filename: `f${position}.dcm`,
      format: 'dicom' as const,
      objectKey: `k${position}`,
      sha256: 's',
      size: 1,
    })),
  );
  return { studyId, instanceIds };
}

describe('DICOM exports', () => {
  it('records objects and one delivery per object and destination that takes its kind, idempotently', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'dicom-a' });
    const other = await createClientWithKey(ds, { name: 'dicom-b' });
    expect(await resolveClient(ds, 'dicom-a')).toMatchObject({ id: clientId });
    const both = await addDestination(ds, clientId, { transport: 'dimse', aeTitle: 'PACS', host: 'h', port: 104 }, [
      'sr',
      'sc',
    ]);
    const srOnly = await addDestination(ds, clientId, { transport: 'stow', url: 'http://x/dicom-web', headers: {} }, [
      'sr',
    ]);
    const removed = await addDestination(ds, clientId, { transport: 'dimse', aeTitle: 'OLD', host: 'h', port: 1 }, [
      'sr',
    ]);
    expect(await removeDestination(ds, removed.id)).toBe(true);
    expect(await removeDestination(ds, removed.id)).toBe(false);
    await addDestination(ds, other.clientId, { transport: 'dimse', aeTitle: 'B', host: 'h', port: 1 }, ['sr', 'sc']);

    const { studyId, instanceIds } = await completedStudy(clientId);
    const objects = [
      { kind: 'sr' as const, sopInstanceUid: '2.25.1', instanceId: null },
      { kind: 'sc' as const, sopInstanceUid: '2.25.2', instanceId: instanceIds[0] },
      { kind: 'sc' as const, sopInstanceUid: '2.25.3', instanceId: instanceIds[1] },
    ];
    const destinations = await recordStudyDicomObjects(ds, { clientId, studyId }, objects);
    expect(destinations.sort()).toEqual([both.id, srOnly.id].sort());
    // Recording again (progress is recorded more than once) adds nothing.
    await recordStudyDicomObjects(ds, { clientId, studyId }, objects);
    expect((await listStudyDicomObjects(ds, studyId)).map((o) => o.sopInstanceUid)).toEqual([
      '2.25.1',
      '2.25.2',
      '2.25.3',
    ]);
    expect(await pendingDicomDeliveries(ds, studyId, both.id)).toHaveLength(3);
    expect((await pendingDicomDeliveries(ds, studyId, srOnly.id)).map((d) => d.kind)).toEqual(['sr']);
    expect(await listDicomDeliveries(ds, { clientId: other.clientId, limit: 10 })).toEqual([]);
    expect(await listDicomDeliveries(ds, { clientId, studyId, limit: 10 })).toHaveLength(4);
  });

  it('serves an object once built, to its client only; fails and reopens a delivery', async () => {
    const { clientId } = await createClientWithKey(ds, { name: 'dicom-c' });
    const destination = await addDestination(ds, clientId, { transport: 'dimse', aeTitle: 'P', host: 'h', port: 1 }, [
      'sr',
    ]);
    const { studyId } = await completedStudy(clientId);
    await recordStudyDicomObjects(ds, { clientId, studyId }, [
      { kind: 'sr', sopInstanceUid: '2.25.77', instanceId: null },
    ]);
    const [object] = await listStudyDicomObjects(ds, studyId);
    expect(await findDicomObject(ds, '2.25.77', clientId)).toMatchObject({ objectKey: null });
    await markDicomObjectBuilt(ds, object.id, 'clients/x/sr.dcm');
    expect(await findDicomObject(ds, '2.25.77', clientId)).toMatchObject({ objectKey: 'clients/x/sr.dcm' });
    expect(await findDicomObject(ds, '2.25.77', randomUUID())).toBeUndefined();

    const [delivery] = await pendingDicomDeliveries(ds, studyId, destination.id);
    await countDicomDeliveryAttempt(ds, [delivery.id]);
    await markDicomDeliveriesFailed(ds, [delivery.id], 'refused');
    expect(await reopenFailedDicomDelivery(ds, delivery.id, randomUUID())).toBeUndefined();
    expect(await reopenFailedDicomDelivery(ds, delivery.id, clientId)).toEqual({
      studyId,
      destinationId: destination.id,
      correlationId: 'corr-dicom',
    });
    expect(await reopenFailedDicomDelivery(ds, delivery.id, clientId)).toBeUndefined(); // pending now
    await markDicomDeliveryDelivered(ds, delivery.id);
    const [listed] = await listDicomDeliveries(ds, { studyId, status: 'delivered', limit: 10 });
    expect(listed).toMatchObject({
      id: delivery.id,
      attempts: 1,
      lastError: null,
      destination: { target: 'P@h:1', transport: 'dimse', removed: false },
    });
  });
});
