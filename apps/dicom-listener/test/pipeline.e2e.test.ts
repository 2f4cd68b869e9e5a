import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addDicomNode, createDataSource, setClientWebhookUrl } from '@xray/db';
import { makeStudyFiles, runTool, sharedPath, startSystem, WebhookReceiver, type RunningSystem } from '@xray/testing';
import type { DataSource } from 'typeorm';

/**
 * The whole system (gateway, both workers with the tiny test model, the listener): a study sent
 * with storescu is classified and its study.completed webhook goes to the client's default URL.
 */
jest.setTimeout(600_000);

const STABLE_SECONDS = 3;

let system: RunningSystem;
let receiver: WebhookReceiver;
let ds: DataSource;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'xray-dicom-e2e-'));
  receiver = await new WebhookReceiver().start();
  system = await startSystem({
    apps: ['gateway', 'inference-worker', 'explain-worker', 'dicom-listener'],
    env: { DICOM_STUDY_STABLE_SECONDS: String(STABLE_SECONDS) },
  });
  ds = createDataSource(system.databaseUrl, { poolSize: 1 });
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await system?.stop();
  await receiver?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('a C-STORE study completes once stable with a webhook to the default URL; a late instance leads to a second one', async () => {
  const hospital = await system.createClient('hospital-e2e');
  await setClientWebhookUrl(ds, hospital.clientId, `${receiver.url}/dicom`);
  await addDicomNode(ds, { clientId: hospital.clientId, aeTitle: 'E2E' });
  const study = makeStudyFiles(sharedPath('data', 'dicom', 'wg04', 'RG3_JPLY'), 3, work, { accessionNumber: 'E2E-1' });
  const send = (files: string[]) =>
    runTool('storescu', ['-R', '-xx', '-aet', 'E2E', '-aec', 'XRAY', '127.0.0.1', String(system.dicomPort), ...files]);
  const sent = await send(study.files.slice(0, 2));
  const sentAt = Date.now();
  expect(sent.code).toBe(0);
  const calls = await receiver.waitFor(
    '/dicom',
    (list) => list.some((c) => c.body?.type === 'study.completed' && c.body.data.study.instances.length === 2),
    300_000,
  );
  const completed = calls.filter((c) => c.body?.type === 'study.completed').pop()!;
  expect(completed.body.data.study.accessionNumber).toBe('E2E-1');
  expect(completed.body.data.study.instances.map((i: any) => Boolean(i.prediction))).toEqual([true, true]);
  // The study-stable rule: not before it was quiet for DICOM_STUDY_STABLE_SECONDS.
  expect(completed.receivedAt).toBeGreaterThanOrEqual(sentAt + STABLE_SECONDS * 1000 - 500);

  // A late instance reopens the study: a second study.completed with all three instances, and no more.
  expect((await send(study.files.slice(2))).code).toBe(0);
  await receiver.waitFor(
    '/dicom',
    (list) => list.some((c) => c.body?.type === 'study.completed' && c.body.data.study.instances.length === 3),
    300_000,
  );
  await new Promise((r) => setTimeout(r, (STABLE_SECONDS + 2) * 1000));
  const all = receiver.calls.filter((c) => c.path === '/dicom' && c.body?.type === 'study.completed');
  expect(new Set(all.map((c) => c.body.id)).size).toBe(2);
  expect(all.map((c) => c.body.data.study.instances.length).sort()).toEqual([2, 3]);
  expect(all[1].body.data.study.instances.every((i: any) => Boolean(i.prediction))).toBe(true);
});
