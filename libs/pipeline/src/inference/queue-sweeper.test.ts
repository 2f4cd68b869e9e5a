import { randomUUID } from 'node:crypto';
import { createClientWithKey, createDataSource, dropDatabase, migrate } from '@xray/db';
import { createLogger, loadConfig } from '@xray/platform';
import { TEST_REDIS_URL, testDatabaseUrl, uniqueName } from '@xray/testing';
import type { DataSource } from 'typeorm';
import type { TypedQueue } from '../queues';
import { createInferenceQueue } from './inference.job';
import { QueueSweeper } from './queue-sweeper';

const url = testDatabaseUrl(uniqueName('xray_sweep'));
let ds: DataSource;
let queue: TypedQueue<'inference'>;
const config = loadConfig('gateway', { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniqueName('xsweep') });

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

it('re-enqueues instances left queued without a job, once', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'c' });
  const studyId = randomUUID();
  const [stale, fresh] = [randomUUID(), randomUUID()];
  await ds.query(
    `INSERT INTO studies (id, client_id, status, priority, correlation_id) VALUES ($1, $2, 'queued', 'stat', 'corr')`,
    [studyId, clientId],
  );
  await ds.query(
    `INSERT INTO instances (id, study_id, client_id, position, filename, status, format, object_key, sha256, size, created_at)
     VALUES ($1, $3, $4, 0, 'a.png', 'queued', 'png', 'k1', 's', 1, now() - interval '10 minutes'),
            ($2, $3, $4, 1, 'b.png', 'queued', 'png', 'k2', 's', 1, now())`,
    [stale, fresh, studyId, clientId],
  );
  const sweeper = new QueueSweeper(config, ds, queue, createLogger('test', 'silent'));
  expect(await sweeper.sweep()).toBe(1);
  await sweeper.sweep(); // the job exists now: the add is ignored
  const jobs = await queue.getJobs(['prioritized', 'waiting']);
  expect(jobs.map((j) => [j.id, j.data.objectKey, j.opts.priority])).toEqual([[stale, 'k1', 1]]);
});
