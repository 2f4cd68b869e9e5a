import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createClientWithKey, createDataSource, dropDatabase, migrate, setClientWebhookUrl } from '@xray/db';
import { createLogger, loadConfig, QueueWorker, StatusPublisher, type AppConfig } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import { FsObjectStore } from '@xray/storage';
import { TEST_REDIS_URL, makeDicom, testDatabaseUrl, uniqueName } from '@xray/testing';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { createDicomExportQueue } from '../dicom-export/dicom-export.job';
import { createInferenceQueue } from '../inference/inference.job';
import { DicomIngestService } from '../ingest/dicom-ingest.service';
import { StudyIngestService } from '../ingest/study-ingest.service';
import { StudyProgressService } from '../progress/study-progress.service';
import type { TypedQueue } from '../queues';
import { createWebhookQueue } from '../webhook/webhook.job';
import { StudyStableHandler } from './study-stable.handler';
import { createStudyStableQueue, type StudyStableJob } from './study-stable.job';

const url = testDatabaseUrl(uniqueName('xray_stable'));
const logger = createLogger('test', 'silent');
let config: AppConfig;
let ds: DataSource;
let dir: string;
let inference: TypedQueue<'inference'>;
let webhooks: TypedQueue<'webhook'>;
let stable: TypedQueue<'study-stable'>;
let exports: TypedQueue<'dicom-export'>;
let status: StatusPublisher;
let worker: StableWorker;
let ingest: DicomIngestService;
let progress: StudyProgressService;

/** The gateway's processor, as the test runs it: a QueueWorker that calls the handler. */
class StableWorker extends QueueWorker<StudyStableJob> {
  constructor(private readonly handler: StudyStableHandler) {
    super('study-stable', { config, logger, concurrency: 2, readiness: [] });
  }
  protected handle(job: Job<StudyStableJob>): Promise<JobOutcome> {
    return this.handler.handle(job);
  }
}

beforeAll(async () => {
  config = loadConfig('gateway', {
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('xstable'),
    DICOM_STUDY_STABLE_SECONDS: '2',
  });
  await migrate(url);
  ds = createDataSource(url, { poolSize: 4 });
  await ds.initialize();
  dir = mkdtempSync(path.join(tmpdir(), 'xray-stable-'));
  inference = createInferenceQueue(config);
  webhooks = createWebhookQueue(config);
  stable = createStudyStableQueue(config);
  status = new StatusPublisher(config);
  const store = new FsObjectStore(dir);
  ingest = new DicomIngestService(
    ds,
    store,
    logger,
    config,
    stable,
    new StudyIngestService(config, ds, inference, logger),
  );
  exports = createDicomExportQueue(config);
  progress = new StudyProgressService(ds, webhooks, status, stable, exports);
  worker = new StableWorker(new StudyStableHandler(config, ds, progress, logger));
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  for (const q of [inference, webhooks, stable, exports]) {
    await q?.obliterate({ force: true });
    await q?.close();
  }
  await status?.close();
  await ds?.destroy();
  await dropDatabase(url);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the workers do when an instance is done: its status, then the study's progress. */
async function finishInstances(studyId: string): Promise<void> {
  await ds.query(`UPDATE instances SET status = 'done' WHERE study_id = $1 AND status <> 'done'`, [studyId]);
  await progress.record(studyId, 'corr');
}

async function completedEvents(studyId: string): Promise<Array<{ generation: number; at: Date; delivery: string }>> {
  return ds.query(
    `SELECT e.generation, e.created_at AS at, d.id AS delivery FROM webhook_events e
       JOIN webhook_deliveries d ON d.event_id = e.id
      WHERE e.study_id = $1 AND e.type = 'study.completed' ORDER BY e.generation`,
    [studyId],
  );
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('completes a DICOM study once it is quiet and done, and again (a second webhook) after a late instance reopens it', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'pacs' });
  await setClientWebhookUrl(ds, clientId, 'https://ris.example.org/hook');
  const studyInstanceUid = '1.2.826.0.1.3680043.10.2.777';
  const send = async (n: number) => {
    const outcome = await ingest.storeInstance(
      clientId,
      makeDicom({ studyInstanceUid, sopInstanceUid: `${studyInstanceUid}.${n}` }),
    );
    expect(outcome.status).toBe('stored');
    return outcome as { studyId: string };
  };

  const { studyId } = await send(1);
  // The second instance pushes the check back: one delayed job for the study.
  await new Promise((r) => setTimeout(r, 800));
  await send(2);
  const lastArrival = Date.now();
  const delayed = await stable.getJobs(['delayed']);
  expect(delayed.map((j) => j.id)).toEqual([`stable-${studyId}`]);
  await finishInstances(studyId);

  const [first] = await waitFor('the first study.completed', async () => {
    const events = await completedEvents(studyId);
    return events.length ? events : undefined;
  });
  expect(first.generation).toBe(0);
  // Not before the study was quiet for DICOM_STUDY_STABLE_SECONDS after its last instance.
  expect(first.at.getTime()).toBeGreaterThanOrEqual(lastArrival + 2000 - 100);

  // A re-send of a known instance does not reopen it.
  expect(
    (await ingest.storeInstance(clientId, makeDicom({ studyInstanceUid, sopInstanceUid: `${studyInstanceUid}.1` })))
      .status,
  ).toBe('duplicate');

  // A late instance reopens the study: a new generation and, once it is done and quiet, a second study.completed.
  await send(3);
  await finishInstances(studyId);
  const events = await waitFor('the second study.completed', async () => {
    const all = await completedEvents(studyId);
    return all.length === 2 ? all : undefined;
  });
  expect(events.map((e) => e.generation)).toEqual([0, 1]);
  // Both deliveries are queued once each, and nothing more comes.
  await new Promise((r) => setTimeout(r, 2500));
  expect(await completedEvents(studyId)).toHaveLength(2);
  const webhookJobs = await webhooks.getJobs(['waiting', 'delayed', 'prioritized']);
  for (const e of events) expect(webhookJobs.filter((j) => j.data.deliveryId === e.delivery)).toHaveLength(1);
  const [second] = await ds.query(
    `SELECT payload FROM webhook_events WHERE study_id = $1 AND type = 'study.completed' AND generation = 1`,
    [studyId],
  );
  expect(second.payload.data.study.instances).toHaveLength(3);
  expect(await stable.getJobCounts('delayed', 'waiting', 'active')).toEqual({ delayed: 0, waiting: 0, active: 0 });
}, 40_000);

it('an HTTP-submitted study (no StudyInstanceUID) keeps completing on its last instance, with no stable check', async () => {
  const { clientId } = await createClientWithKey(ds, { name: 'http' });
  await setClientWebhookUrl(ds, clientId, 'https://ris.example.org/hook');
  const studyIngest = new StudyIngestService(config, ds, inference, logger);
  const study = {
    id: randomUUID(),
    clientId,
    priority: 'routine' as const,
    accessionNumber: null,
    callbackUrl: null,
    idempotencyKey: null,
    correlationId: 'corr',
  };
  await studyIngest.registerStudy(study, [
    {
      id: randomUUID(),
      position: 0,
      filename: 'a.png',
      format: 'png',
      objectKey: 'k',
      sha256: 'h',
      size: 1,
    },
  ]);
  await finishInstances(study.id);
  expect(await completedEvents(study.id)).toHaveLength(1);
  expect(await stable.getJob(`stable-${study.id}`)).toBeUndefined();
});
