import { randomUUID } from 'node:crypto';
import { createClientWithKey, createDataSource, dropDatabase, loadStudyRecords, migrate } from '@xray/db';
import { createLogger, loadConfig } from '@xray/platform';
import { TEST_REDIS_URL, testDatabaseUrl, uniqueName } from '@xray/testing';
import type { DataSource } from 'typeorm';
import { createInferenceQueue } from '../inference/inference.job';
import type { TypedQueue } from '../queues';
import { StudyIngestService, type NewInstance } from './study-ingest.service';

const url = testDatabaseUrl(uniqueName('xray_ingest'));
let ds: DataSource;
let queue: TypedQueue<'inference'>;
const config = loadConfig('gateway', {
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: uniqueName('xingest'),
  ENQUEUE_TIMEOUT_MS: '300',
});

beforeAll(async () => {
  await migrate(url);
  ds = createDataSource(url, { poolSize: 2 });
  await ds.initialize();
  queue = createInferenceQueue(config);
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await ds?.destroy();
  await dropDatabase(url);
});

const instance = (position: number): NewInstance => ({
  id: randomUUID(),
  position,
  filename: `${position}.dcm`,
  format: 'dicom',
  objectKey: `clients/c/studies/s/${position}/original`,
  sha256: 'h',
  size: 1,
});

it('registers a study with its stored files and queues one job per instance, then adds more', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'pacs' });
  const ingest = new StudyIngestService(config, ds, queue, createLogger('test', 'silent'));
  const study = {
    id: randomUUID(),
    clientId,
    priority: 'stat' as const,
    accessionNumber: 'A1',
    callbackUrl: null,
    idempotencyKey: null,
    correlationId: 'corr',
  };
  const first = [instance(0), instance(1)];
  await ingest.registerStudy(study, first);
  const later = [instance(2)];
  await ingest.addInstances(study, later);

  const [record] = await loadStudyRecords(ds, [study.id]);
  expect(record.instances.map((i) => [i.id, i.status])).toEqual([...first, ...later].map((i) => [i.id, 'queued']));
  const jobs = await queue.getJobs(['prioritized', 'waiting']);
  expect(jobs.map((j) => [j.id, j.data, j.opts.priority]).sort()).toEqual(
    [...first, ...later]
      .map((i) => [
        i.id,
        { instanceId: i.id, studyId: study.id, clientId, objectKey: i.objectKey, correlationId: 'corr' },
        1,
      ])
      .sort(),
  );
  // Registering the same study again is refused by the database and queues nothing new.
  await expect(ingest.registerStudy(study, [instance(3)])).rejects.toThrow();
  expect(await queue.getJobCounts('prioritized', 'waiting')).toMatchObject({ prioritized: 3 });
});

it('answers within ENQUEUE_TIMEOUT_MS while Redis does not answer, leaving the instances queued for the sweeper', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'outage' });
  // Nothing listens on port 1: the queue's commands wait for a connection that never comes.
  const deadQueue = createInferenceQueue(loadConfig('gateway', { REDIS_URL: 'redis://127.0.0.1:1' }));
  deadQueue.on('error', () => undefined);
  const ingest = new StudyIngestService(config, ds, deadQueue, createLogger('test', 'silent'));
  const study = {
    id: randomUUID(),
    clientId,
    priority: 'routine' as const,
    accessionNumber: null,
    callbackUrl: null,
    idempotencyKey: null,
    correlationId: 'corr',
  };
  const started = Date.now();
  await ingest.registerStudy(study, [instance(0)]);
  expect(Date.now() - started).toBeLessThan(2_000);
  const [record] = await loadStudyRecords(ds, [study.id]);
  expect(record.instances.map((i) => i.status)).toEqual(['queued']);
  await deadQueue.close().catch(() => undefined);
});
