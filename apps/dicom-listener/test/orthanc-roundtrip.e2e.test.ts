import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { addDicomNode, createDataSource, setClientWebhookUrl } from '@xray/db';
import { bodyPartCoding } from '@xray/dicom';
import type { StudyDto, WebhookEvent } from '@xray/shared';
import {
  imageLibrarySources,
  makeDicom,
  makeStudyFiles,
  reportedBodyParts,
  scSource,
  startOrthanc,
  startSystem,
  WebhookReceiver,
  type IssuedClient,
  type RunningOrthanc,
  type RunningSystem,
} from '@xray/testing';
import type { DataSource } from 'typeorm';

/**
 * The round trip a hospital makes, against ONE real Orthanc that is both the sender and the
 * destination: the whole system (gateway, both workers with the tiny test model, the DICOM
 * listener) gets a 3-instance study from Orthanc, by C-STORE to the listener or by STOW-RS to the
 * gateway; the study completes (one study.completed to the client's default webhook URL) and its
 * results (one SR, one SC per instance) go back into the same Orthanc, by C-STORE or by STOW-RS,
 * in the source study. Sending the study again adds nothing to Orthanc.
 * Each transport has its own client (the Orthanc AE is registered to the C-STORE one, Orthanc's
 * DICOMweb client uses the STOW-RS one's API key), so each study's results take one way back.
 */
jest.setTimeout(600_000);

const ROOT = path.resolve(__dirname, '../../..');
const STABLE_SECONDS = 3;
const WAIT_MS = 300_000; // the machine is shared and loaded: generous, but bounded
const execFileAsync = promisify(execFile);

let work: string;
let system: RunningSystem;
let receiver: WebhookReceiver;
let ds: DataSource;
let orthanc: RunningOrthanc;
let viaDimse: IssuedClient;
let viaStow: IssuedClient;
let source: string;

async function xray(...args: string[]): Promise<any> {
  const { stdout } = await execFileAsync(process.execPath, ['bin/xray.js', ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: system.databaseUrl },
  });
  return JSON.parse(stdout);
}

async function apiJson<T = any>(client: IssuedClient, pathname: string): Promise<T> {
  const res = await fetch(`${system.url}${pathname}`, { headers: { Authorization: `Bearer ${client.apiKey}` } });
  if (res.status !== 200) throw new Error(`GET ${pathname}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls the delivery log of a study until `done` holds. */
async function exportsOf(client: IssuedClient, studyId: string, done: (items: any[]) => boolean): Promise<any[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const { items } = await apiJson(client, `/v1/exports?study=${studyId}&limit=100`);
    if (done(items)) return items;
    if (Date.now() > deadline)
      throw new Error(
        `exports of ${studyId}: ${JSON.stringify(items.map((d: any) => [d.kind, d.status, d.lastError]))}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

const completedEvents = (hookPath: string, studyInstanceUid: string): WebhookEvent[] =>
  receiver.calls
    .filter((c) => c.path === hookPath && c.body?.type === 'study.completed')
    .map((c) => c.body as WebhookEvent)
    .filter((e) => e.data.dicom?.studyInstanceUid === studyInstanceUid);

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'xray-orthanc-roundtrip-'));
  source = path.join(work, 'source.dcm');
  writeFileSync(source, makeDicom({ rows: 96, columns: 80, bodyPartExamined: 'CHEST' }));
  receiver = await new WebhookReceiver().start();
  system = await startSystem({
    apps: ['gateway', 'inference-worker', 'explain-worker', 'dicom-listener'],
    env: {
      DICOM_STUDY_STABLE_SECONDS: String(STABLE_SECONDS),
      DICOM_AE_TITLE: 'XRAY',
      DICOM_EXPORT_BACKOFF_MS: '300',
      DICOM_EXPORT_MAX_ATTEMPTS: '12',
    },
  });
  ds = createDataSource(system.databaseUrl, { poolSize: 1 });
  await ds.initialize();
  viaDimse = await system.createClient('hospital-dimse');
  viaStow = await system.createClient('hospital-stow');
  await setClientWebhookUrl(ds, viaDimse.clientId, `${receiver.url}/dimse`);
  await setClientWebhookUrl(ds, viaStow.clientId, `${receiver.url}/stow`);
  orthanc = await startOrthanc({
    modality: { aeTitle: 'XRAY', host: '127.0.0.1', port: system.dicomPort },
    dicomweb: { url: `${system.url}/dicomweb/`, apiKey: viaStow.apiKey },
  });
  await addDicomNode(ds, { clientId: viaDimse.clientId, aeTitle: orthanc.aeTitle, host: '127.0.0.1' });
  await xray(
    'destination',
    'add',
    '--client',
    'hospital-dimse',
    '--dicom',
    `${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`,
  );
  await xray('destination', 'add', '--client', 'hospital-stow', '--stow', orthanc.dicomWebRoot);
});

afterAll(async () => {
  await ds?.destroy();
  await Promise.allSettled([orthanc?.stop(), system?.stop(), receiver?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each([
  {
    transport: 'C-STORE',
    client: () => viaDimse,
    hookPath: '/dimse',
    send: (resources: string[]) => orthanc.post('/modalities/xray/store', { Resources: resources, Synchronous: true }),
  },
  {
    transport: 'STOW-RS',
    client: () => viaStow,
    hookPath: '/stow',
    send: (resources: string[]) =>
      orthanc.post('/dicom-web/servers/xray/stow', { Resources: resources, Synchronous: true }),
  },
])(
  'Orthanc sends a 3-instance study by $transport; the results come back the same way',
  ({ transport, client, hookPath, send }) => {
    let study: { studyInstanceUid: string; sopInstanceUids: string[]; files: string[] };
    // Orthanc's ids of the source instances: once the results are in, its study also holds them.
    const sourceIds: string[] = [];
    let event: WebhookEvent;
    let classified: StudyDto;
    const patientId = `PAT-${transport}`;

    it('completes with one study.completed and a prediction for every instance; one SR and one SC per instance land in the source study', async () => {
      study = makeStudyFiles(source, 3, mkdtempSync(path.join(work, 'study-')), {
        accessionNumber: `ACC-${transport}`,
        patientId,
      });
      for (const file of study.files) sourceIds.push((await orthanc.upload(file)).instanceId);
      const sentAt = Date.now();
      await send(sourceIds);

      await receiver.waitFor(hookPath, () => completedEvents(hookPath, study.studyInstanceUid).length > 0, WAIT_MS);
      const completedAt = Date.now();
      [event] = completedEvents(hookPath, study.studyInstanceUid);
      const webhookInstances = event.data.study.instances;
      expect(webhookInstances.map((i) => i.dicom?.sopInstanceUid).sort()).toEqual([...study.sopInstanceUids].sort());
      expect(webhookInstances.every((i) => Boolean(i.prediction))).toBe(true);
      classified = await apiJson<StudyDto>(client(), `/v1/studies/${event.data.study.id}`);
      expect(classified.status).toBe('done');
      expect(classified.instances.every((i) => Boolean(i.prediction))).toBe(true);

      const announced = event.data.dicom!.objects;
      expect(announced.map((o) => o.kind).sort()).toEqual(['sc', 'sc', 'sc', 'sr']);
      await exportsOf(
        client(),
        classified.id,
        (items) => items.length === 4 && items.every((d) => d.status === 'delivered'),
      );
      const deliveredAt = Date.now();
      console.log(
        `${transport}: study.completed ${completedAt - sentAt} ms after Orthanc's send, results delivered ${deliveredAt - sentAt} ms after`,
      );
      // Exactly one study.completed, also once the study had time to settle again.
      await new Promise((r) => setTimeout(r, (STABLE_SECONDS + 2) * 1000));
      expect(completedEvents(hookPath, study.studyInstanceUid)).toHaveLength(1);

      // Orthanc's REST API: the 3 sources and the 4 results, all in the source study and patient.
      const instances = await orthanc.studyDatasets(study.studyInstanceUid);
      expect(instances).toHaveLength(7);
      for (const instance of instances) {
        expect(instance.StudyInstanceUID).toBe(study.studyInstanceUid);
        expect(instance.PatientID).toBe(patientId);
      }
      const srs = instances.filter((i) => i.Modality === 'SR');
      const scs = instances.filter((i) => i.SOPClassUID === '1.2.840.10008.5.1.4.1.1.7');
      expect(srs).toHaveLength(1);
      const [sr] = srs;
      expect(sr.SOPInstanceUID).toBe(announced.find((o) => o.kind === 'sr')!.sopInstanceUid);
      expect(scs.map((i) => i.SOPInstanceUID).sort()).toEqual(
        announced
          .filter((o) => o.kind === 'sc')
          .map((o) => o.sopInstanceUid)
          .sort(),
      );
      // Its DICOMweb (QIDO-RS) lists the same instances.
      expect(await orthanc.qidoInstanceUids(study.studyInstanceUid)).toEqual(
        [...study.sopInstanceUids, ...announced.map((o) => o.sopInstanceUid)].sort(),
      );

      // The SR: each instance's body part is the SNOMED code of the API's prediction, inferred from that source instance.
      const expected = classified.instances
        .map((instance) => ({
          code: bodyPartCoding(instance.prediction!.label).code?.value ?? 'Others',
          source: instance.dicom!.sopInstanceUid!,
        }))
        .sort((a, b) => a.source.localeCompare(b.source));
      expect([...reportedBodyParts(sr)].sort((a, b) => a.source.localeCompare(b.source))).toEqual(expected);
      expect(imageLibrarySources(sr).sort()).toEqual([...study.sopInstanceUids].sort());

      // One SC per source instance, the one the webhook announced for it.
      const sopOfInstance = new Map(classified.instances.map((i) => [i.id, i.dicom!.sopInstanceUid!]));
      for (const o of announced.filter((a) => a.kind === 'sc')) {
        const sc = scs.find((i) => i.SOPInstanceUID === o.sopInstanceUid)!;
        expect(scSource(sc)).toBe(sopOfInstance.get(o.instanceId!));
      }
      expect(scs.map(scSource).sort()).toEqual([...study.sopInstanceUids].sort());
    });

    it('a second send of the same study adds no instances in Orthanc', async () => {
      expect(event).toBeDefined();
      const before = (await orthanc.studyInstanceIds(study.studyInstanceUid)).sort();
      expect(before).toHaveLength(7);
      await send(sourceIds);
      // Let a reopened study settle and any export it caused finish before counting.
      await new Promise((r) => setTimeout(r, (STABLE_SECONDS + 3) * 1000));
      await exportsOf(client(), classified.id, (items) => items.every((d) => d.status === 'delivered'));
      const after = (await orthanc.studyInstanceIds(study.studyInstanceUid)).sort();
      expect(after).toEqual(before);
      const sameStudy = await apiJson<StudyDto>(client(), `/v1/studies/${classified.id}`);
      expect(sameStudy.instances).toHaveLength(3);
      expect(completedEvents(hookPath, study.studyInstanceUid)).toHaveLength(1);
    });

    it('forwarding the whole study, our results included (as a PACS routing rule does), classifies nothing again', async () => {
      const before = (await orthanc.studyInstanceIds(study.studyInstanceUid)).sort();
      // Orthanc's job fails (the SR is refused as a non-image class); the SCs are answered as already known.
      await send(before).catch(() => undefined);
      await new Promise((r) => setTimeout(r, (STABLE_SECONDS + 3) * 1000));
      await exportsOf(client(), classified.id, (items) => items.every((d) => d.status === 'delivered'));
      expect((await apiJson<StudyDto>(client(), `/v1/studies/${classified.id}`)).instances).toHaveLength(3);
      expect(completedEvents(hookPath, study.studyInstanceUid)).toHaveLength(1);
      expect((await orthanc.studyInstanceIds(study.studyInstanceUid)).sort()).toEqual(before);
    });
  },
);
