import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { data } from 'dcmjs';
import { bodyPartCoding } from '@xray/dicom';
import type { StudyDto, WebhookEvent } from '@xray/shared';
import {
  freePort,
  makeDicom,
  makePng,
  reportedBodyParts,
  scSource,
  startedTogether,
  startOrthanc,
  startStoreScp,
  startSystem,
  WebhookReceiver,
  type IssuedClient,
  type RunningOrthanc,
  type RunningSystem,
  type StoreScp,
} from '@xray/testing';
import { ApiClient } from './api-client';

/**
 * DICOM results end to end: the built apps, a real Orthanc taking them by C-STORE, another by
 * STOW-RS, and DCMTK storescp, each a destination set with the `xray destination` CLI. A DICOM
 * study (two generated CR instances of one study, already in both Orthancs as a PACS would hold
 * them) is submitted over the HTTP API.
 *
 * The Orthanc-sourced variant (the study sent from Orthanc into the DICOM listener or by STOW-RS,
 * results back into the same Orthanc) is apps/dicom-listener/test/orthanc-roundtrip.e2e.test.ts.
 */
jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../../..');
const STUDY_UID = '1.2.826.0.1.3680043.10.2.1'; // what makeDicom writes
const execFileAsync = promisify(execFile);

let work: string;
let system: RunningSystem;
let receiver: WebhookReceiver;
let hospital: IssuedClient;
let api: ApiClient;
let pacsByCStore: RunningOrthanc;
let pacsByStow: RunningOrthanc;
let storescpPort: number;
let storescp: StoreScp | undefined;
const sources = [
  { name: 'chest.dcm', sop: '1.2.826.0.1.3680043.10.1.9001', rows: 96, columns: 80, bodyPart: 'CHEST' },
  { name: 'hand.dcm', sop: '1.2.826.0.1.3680043.10.1.9002', rows: 72, columns: 100, bodyPart: 'HAND' },
].map((s) => ({
  ...s,
  bytes: makeDicom({ sopInstanceUid: s.sop, rows: s.rows, columns: s.columns, bodyPartExamined: s.bodyPart }),
}));
const destinations: Record<'cstore' | 'stow' | 'storescp', string> = { cstore: '', stow: '', storescp: '' };

async function xray(...args: string[]): Promise<any> {
  const { stdout } = await execFileAsync(process.execPath, ['bin/xray.js', ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: system.databaseUrl },
  });
  return JSON.parse(stdout);
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

async function exportsOf(studyId: string, done: (items: any[]) => boolean, timeoutMs = 90_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { items } = await api.json(`/v1/exports?study=${studyId}&limit=100`);
    if (done(items)) return items;
    if (Date.now() > deadline)
      throw new Error(
        `exports of ${studyId}: ${JSON.stringify(items.map((d: any) => [d.destination.target, d.kind, d.status, d.lastError]))}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'xray-dicom-export-'));
  mkdirSync(path.join(work, 'storescp'));
  receiver = await new WebhookReceiver().start();
  [pacsByCStore, pacsByStow, system, storescpPort] = await startedTogether([
    startOrthanc({}, 'PACS'),
    startOrthanc({}, 'STOWPACS'),
    startSystem({
      env: { DICOM_EXPORT_BACKOFF_MS: '300', DICOM_EXPORT_MAX_ATTEMPTS: '12', DICOM_AE_TITLE: 'XRAY-TEST' },
    }),
    freePort(),
  ]);
  hospital = await system.createClient('hospital-dicom');
  api = new ApiClient(system.url, hospital.apiKey);
  // The PACS already holds the source study, as it would in a hospital.
  for (const pacs of [pacsByCStore, pacsByStow]) for (const s of sources) await pacs.upload(new Uint8Array(s.bytes));
  destinations.cstore = (
    await xray(
      'destination',
      'add',
      '--client',
      'hospital-dicom',
      '--dicom',
      `PACS@127.0.0.1:${pacsByCStore.dicomPort}`,
    )
  ).id;
  destinations.stow = (
    await xray('destination', 'add', '--client', 'hospital-dicom', '--stow', pacsByStow.dicomWebRoot)
  ).id;
  // storescp is down for now: its deliveries are retried until it comes up.
  destinations.storescp = (
    await xray('destination', 'add', '--client', 'hospital-dicom', '--dicom', `STORESCP@127.0.0.1:${storescpPort}`)
  ).id;
});

afterAll(async () => {
  await Promise.allSettled([
    system?.stop(),
    receiver?.stop(),
    pacsByCStore?.stop(),
    pacsByStow?.stop(),
    storescp?.stop(),
  ]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a DICOM study submitted over the API comes back into the PACS as DICOM results', () => {
  let study: StudyDto;
  let event: WebhookEvent;

  it('announces the objects in study.completed without waiting for the export (storescp is down)', async () => {
    const res = await api.submit(
      sources.map((s) => ({ name: s.name, bytes: s.bytes })),
      { callbackUrl: `${receiver.url}/hooks/dicom` },
    );
    expect(res.status).toBe(202);
    study = await res.json();
    const [call] = await receiver.waitFor('/hooks/dicom', (c) => c.some((x) => x.body?.type === 'study.completed'));
    const completed = receiver.calls.find((c) => c.path === '/hooks/dicom' && c.body?.type === 'study.completed')!;
    event = completed.body;
    study = await api.json<StudyDto>(`/v1/studies/${study.id}`);
    expect(study.status).toBe('done');
    expect(call).toBeDefined();

    // The webhook came as soon as the study was done, while the export to the stopped storescp still waits.
    const doneAt = Math.max(...study.instances.map((i) => Date.parse(i.updatedAt)));
    const webhookDelayMs = completed.receivedAt - doneAt;
    console.log(`study.completed webhook ${webhookDelayMs} ms after the last instance was done`);
    expect(webhookDelayMs).toBeLessThan(3_000);
    const atWebhook = (await api.json(`/v1/exports?study=${study.id}&destination=${destinations.storescp}`)).items;
    expect(atWebhook.map((d: any) => d.status)).not.toContain('delivered');

    expect(event.data.dicom!.studyInstanceUid).toBe(STUDY_UID);
    const objects = event.data.dicom!.objects;
    expect(objects.map((o) => o.kind)).toEqual(['sr', 'sc', 'sc']);
    expect(objects.slice(1).map((o) => o.instanceId)).toEqual(study.instances.map((i) => i.id));
    for (const o of objects) {
      expect(o.sopInstanceUid).toMatch(/^2\.25\.\d{1,39}$/);
      expect(o.url).toBe(`${system.url}/v1/dicom-objects/${o.sopInstanceUid}`);
    }
  });

  it('stores one SR and one SC per instance in the source study of the C-STORE and the STOW-RS Orthanc', async () => {
    await exportsOf(
      study.id,
      (items) =>
        items.filter((d) => d.destination.id !== destinations.storescp && d.status === 'delivered').length === 6,
    );
    const announced = event.data.dicom!.objects.map((o) => o.sopInstanceUid);
    const sourceUids = sources.map((s) => s.sop);
    expect(await pacsByStow.qidoInstanceUids(STUDY_UID)).toEqual([...sourceUids, ...announced].sort());
    await expectResultsIn(pacsByCStore, announced);
    await expectResultsIn(pacsByStow, announced);
  });

  async function expectResultsIn(pacs: RunningOrthanc, announced: string[]): Promise<void> {
    const instances = await pacs.studyDatasets(STUDY_UID);
    expect(instances).toHaveLength(sources.length + 3);
    const [sr] = instances.filter((i) => i.Modality === 'SR');
    const scs = instances.filter((i) => i.SOPClassUID === '1.2.840.10008.5.1.4.1.1.7');
    expect(sr.SOPInstanceUID).toBe(announced[0]);
    expect(scs.map((i) => i.SOPInstanceUID).sort()).toEqual(announced.slice(1).sort());
    for (const object of [sr, ...scs]) expect(object.StudyInstanceUID).toBe(STUDY_UID);

    // Each instance's predicted body part, as its CID 4031 code, inferred from that source instance.
    const expected = study.instances.map((instance) => {
      const coding = bodyPartCoding(instance.prediction!.label);
      return { code: coding.code?.value ?? 'Others', source: instance.dicom!.sopInstanceUid! };
    });
    expect(reportedBodyParts(sr)).toEqual(expected);

    // One SC per source instance, at its resolution, referring to it.
    for (const s of sources) {
      const sc = scs.find((i) => scSource(i) === s.sop);
      expect(sc).toMatchObject({ Rows: s.rows, Columns: s.columns, SamplesPerPixel: 3, BurnedInAnnotation: 'YES' });
    }
  }

  it('delivers to storescp once it comes up (retried with backoff)', async () => {
    const pending = (await api.json(`/v1/exports?study=${study.id}&destination=${destinations.storescp}`)).items;
    expect(pending.map((d: any) => d.status)).toEqual(['pending', 'pending', 'pending']);
    expect(pending[0].lastError).toMatch(/ECONNREFUSED|connect|refused/i);
    storescp = await startStoreScp({ port: storescpPort, dir: path.join(work, 'storescp'), aeTitle: 'STORESCP' });
    const delivered = await exportsOf(study.id, (items) => items.every((d) => d.status === 'delivered'));
    expect(delivered.find((d) => d.destination.id === destinations.storescp).attempts).toBeGreaterThan(1);
    const received = storescp.received().map((f) => path.basename(f));
    for (const o of event.data.dicom!.objects)
      expect(received.some((name) => name.endsWith(o.sopInstanceUid))).toBe(true);
  });

  it('lists the objects with their delivery status and serves them as application/dicom', async () => {
    const listing = await api.json(`/v1/studies/${study.id}/dicom`);
    expect(listing.studyInstanceUid).toBe(STUDY_UID);
    expect(listing.objects.map((o: any) => [o.sopInstanceUid, o.built])).toEqual(
      event.data.dicom!.objects.map((o) => [o.sopInstanceUid, true]),
    );
    for (const o of listing.objects)
      expect(o.deliveries.map((d: any) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);

    const sr = event.data.dicom!.objects[0];
    const res = await api.get(`/v1/dicom-objects/${sr.sopInstanceUid}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/dicom/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const parsed = data.DicomMetaDictionary.naturalizeDataset(data.DicomMessage.readFile(bytes.buffer).dict);
    expect(parsed.SOPInstanceUID).toBe(sr.sopInstanceUid);

    const other = new ApiClient(system.url, (await system.createClient('other-hospital')).apiKey);
    for (const [client, uid] of [
      [other, sr.sopInstanceUid],
      [api, '2.25.1'],
      [api, 'not-a-uid'],
    ] as const) {
      const missing = await client.get(`/v1/dicom-objects/${uid}`);
      expect([missing.status, (await missing.json()).error.code]).toEqual([404, 'NOT_FOUND']);
    }
    expect((await other.get(`/v1/studies/${study.id}/dicom`)).status).toBe(404);
    expect((await other.json('/v1/exports')).items).toEqual([]);
    expect((await api.get('/v1/exports?status=sent')).status).toBe(400);
  });

  it('re-sending the study adds no new instances to either Orthanc', async () => {
    const before = await Promise.all([pacsByCStore, pacsByStow].map((p) => p.studyInstanceIds(STUDY_UID)));
    const again: StudyDto = await (await api.submit(sources.map((s) => ({ name: s.name, bytes: s.bytes })))).json();
    await api.waitForStudy(again.id);
    const items = await exportsOf(again.id, (list) => list.length === 9 && list.every((d) => d.status === 'delivered'));
    expect(new Set(items.map((d) => d.sopInstanceUid))).toEqual(
      new Set(event.data.dicom!.objects.map((o) => o.sopInstanceUid)),
    );
    const after = await Promise.all([pacsByCStore, pacsByStow].map((p) => p.studyInstanceIds(STUDY_UID)));
    expect(after.map((ids) => ids.sort())).toEqual(before.map((ids) => ids.sort()));
  });

  it('counts exported objects by kind, outcome and transport', async () => {
    const metrics = await (await fetch(system.metricsUrl('gateway'))).text();
    expect(metrics).toMatch(
      /xray_dicom_objects_exported_total\{[^}]*kind="sr"[^}]*outcome="delivered"[^}]*transport="stow"[^}]*\} 2/,
    );
    expect(metrics).toMatch(
      /xray_dicom_objects_exported_total\{[^}]*kind="sc"[^}]*outcome="retrying"[^}]*transport="dimse"/,
    );
  });
});

describe('a client without destinations', () => {
  it('still gets the objects: listed when the study completes, built on first read', async () => {
    const lonely = new ApiClient(system.url, (await system.createClient('no-destinations')).apiKey);
    const study: StudyDto = await (await lonely.submit([{ name: 'x.png', bytes: await makePng() }])).json();
    await lonely.waitForStudy(study.id);
    let listing: any = { objects: [] };
    for (const deadline = Date.now() + 30_000; listing.objects.length === 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      listing = await lonely.json(`/v1/studies/${study.id}/dicom`);
    }
    expect(listing.objects.map((o: any) => [o.kind, o.built, o.deliveries])).toEqual([
      ['sr', false, []],
      ['sc', false, []],
    ]);
    const res = await lonely.get(`/v1/dicom-objects/${listing.objects[1].sopInstanceUid}`);
    expect(res.status).toBe(200);
    const sc = data.DicomMetaDictionary.naturalizeDataset(
      data.DicomMessage.readFile(new Uint8Array(await res.arrayBuffer()).buffer).dict,
    );
    expect(sc).toMatchObject({
      SOPInstanceUID: listing.objects[1].sopInstanceUid,
      StudyInstanceUID: listing.studyInstanceUid,
    });
    expect((await lonely.json(`/v1/studies/${study.id}/dicom`)).objects.every((o: any) => o.built)).toBe(true);
  });
});

describe('a failed export is retried through the API', () => {
  it('fails for good when refused, and is delivered after POST /v1/exports/:id/retry', async () => {
    const port = await freePort();
    const dir = path.join(work, 'refusing');
    mkdirSync(dir);
    const refusing = await startStoreScp({ port, dir, aeTitle: 'REFUSER', refuse: true });
    const client = await system.createClient('refused-hospital');
    const refusedApi = new ApiClient(system.url, client.apiKey);
    const destination = await xray(
      'destination',
      'add',
      '--client',
      'refused-hospital',
      '--dicom',
      `REFUSER@127.0.0.1:${port}`,
      '--objects',
      'sr',
    );
    const study: StudyDto = await (await refusedApi.submit([{ name: 'x.png', bytes: await makePng() }])).json();
    await refusedApi.waitForStudy(study.id);
    let failed: any[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      failed = (await refusedApi.json(`/v1/exports?study=${study.id}&status=failed`)).items;
      if (failed.length === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ kind: 'sr', destination: { id: destination.id }, attempts: 1 });
    await refusing.stop();

    const accepting = await startStoreScp({ port, dir, aeTitle: 'REFUSER' });
    try {
      const retry = await fetch(`${system.url}/v1/exports/${failed[0].id}/retry`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${client.apiKey}` },
      });
      expect(retry.status).toBe(202);
      let status = 'pending';
      for (const deadline = Date.now() + 60_000; status !== 'delivered' && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await refusedApi.json(`/v1/exports?study=${study.id}`)).items[0].status;
      }
      expect(status).toBe('delivered');
      // A PNG upload: the SR lives in a study whose UID is derived from the study id; the patient is empty.
      const [file] = accepting.received();
      const sr = data.DicomMetaDictionary.naturalizeDataset(
        data.DicomMessage.readFile(new Uint8Array(readFileSync(file)).buffer).dict,
      );
      const listing = await refusedApi.json(`/v1/studies/${study.id}/dicom`);
      expect(sr.StudyInstanceUID).toBe(listing.studyInstanceUid);
      expect(sr.StudyInstanceUID).toMatch(/^2\.25\./);
      // Type 2: present and empty (dcmjs reads an empty Person Name as no component groups).
      expect(sr).toHaveProperty('PatientName');
      expect(asArray(sr.PatientName).filter((name: any) => name?.Alphabetic)).toEqual([]);
      expect(sr.PatientID ?? '').toBe('');
    } finally {
      await accepting.stop();
    }
  });
});
