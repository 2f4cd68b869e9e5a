import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as dicomParser from 'dicom-parser';
import { addDicomNode, createDataSource } from '@xray/db';
import {
  makeStudyFiles,
  sharedPath,
  startOrthanc,
  startSystem,
  type IssuedClient,
  type RunningOrthanc,
  type RunningSystem,
} from '@xray/testing';
import type { DataSource } from 'typeorm';

/**
 * A real Orthanc sends studies to the product, by C-STORE to the DICOM listener and by STOW-RS
 * (its DICOMweb client) to the gateway; then STOW-RS edge cases straight over HTTP.
 */
jest.setTimeout(300_000);

const SOURCE = () => sharedPath('data', 'dicom', 'wg04', 'RG3_JPLY');
let system: RunningSystem;
let orthanc: RunningOrthanc;
let ds: DataSource;
let hospital: IssuedClient;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'xray-orthanc-test-'));
  system = await startSystem({ apps: ['gateway', 'dicom-listener'], env: { DICOM_AE_TITLE: 'XRAY' } });
  ds = createDataSource(system.databaseUrl, { poolSize: 2 });
  await ds.initialize();
  hospital = await system.createClient('hospital-orthanc');
  await addDicomNode(ds, { clientId: hospital.clientId, aeTitle: 'ORTHANC', host: '127.0.0.1' });
  orthanc = await startOrthanc({
    modality: { aeTitle: 'XRAY', host: '127.0.0.1', port: system.dicomPort },
    dicomweb: { url: `${system.url}/dicomweb/`, apiKey: hospital.apiKey },
  });
});

afterAll(async () => {
  await orthanc?.stop();
  await ds?.destroy();
  await system?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function recorded(studyInstanceUid: string) {
  return ds.query(
    `SELECT s.id AS study_id, s.accession_number, i.sop_instance_uid, i.object_key, i.status
       FROM studies s JOIN instances i ON i.study_id = s.id
      WHERE s.client_id = $1 AND s.study_instance_uid = $2 ORDER BY i.position`,
    [hospital.clientId, studyInstanceUid],
  );
}

/** Pixel Data to the end: Orthanc re-serialises the header it sends, the compressed fragments pass through. */
function pixelDataOf(part10: Buffer): Buffer {
  const element = dicomParser.parseDicom(part10).elements.x7fe00010;
  return part10.subarray(element.dataOffset, element.dataOffset + element.length);
}

it('Orthanc sends a 3-instance study by C-STORE: one study, every instance stored as sent', async () => {
  const dir = mkdtempSync(path.join(work, 'cstore-'));
  const study = makeStudyFiles(SOURCE(), 3, dir, { accessionNumber: 'ACC-CSTORE-1' });
  let orthancStudy = '';
  for (const file of study.files) orthancStudy = (await orthanc.upload(file)).studyId;
  await orthanc.post('/modalities/xray/store', { Resources: [orthancStudy], Synchronous: true });

  const rows = await recorded(study.studyInstanceUid);
  expect(rows.map((r: any) => r.sop_instance_uid).sort()).toEqual([...study.sopInstanceUids].sort());
  expect(new Set(rows.map((r: any) => r.study_id)).size).toBe(1);
  expect(rows[0].accession_number).toBe('ACC-CSTORE-1');
  for (const row of rows) {
    const file = study.files[study.sopInstanceUids.indexOf(row.sop_instance_uid)];
    const stored = readFileSync(path.join(system.storageDir, row.object_key));
    expect(pixelDataOf(stored).equals(pixelDataOf(readFileSync(file)))).toBe(true);
  }

  // Sent again: nothing new.
  await orthanc.post('/modalities/xray/store', { Resources: [orthancStudy], Synchronous: true });
  expect((await recorded(study.studyInstanceUid)).length).toBe(3);
});

it('Orthanc sends a 3-instance study by STOW-RS to the gateway', async () => {
  const dir = mkdtempSync(path.join(work, 'stow-'));
  const study = makeStudyFiles(SOURCE(), 3, dir);
  let orthancStudy = '';
  for (const file of study.files) orthancStudy = (await orthanc.upload(file)).studyId;
  await orthanc.post('/dicom-web/servers/xray/stow', { Resources: [orthancStudy], Synchronous: true });

  const rows = await recorded(study.studyInstanceUid);
  expect(rows.map((r: any) => r.sop_instance_uid).sort()).toEqual([...study.sopInstanceUids].sort());
  expect(new Set(rows.map((r: any) => r.study_id)).size).toBe(1);
});

describe('STOW-RS over HTTP', () => {
  const BOUNDARY = 'stow-test-boundary';
  const body = (files: Buffer[]) =>
    Buffer.concat([
      ...files.flatMap((f) => [
        Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`),
        f,
        Buffer.from('\r\n'),
      ]),
      Buffer.from(`--${BOUNDARY}--\r\n`),
    ]);
  const post = (pathname: string, payload: Buffer | ReadableStream, contentType: string) =>
    fetch(`${system.url}${pathname}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${hospital.apiKey}`, 'Content-Type': contentType },
      body: payload as any,
      duplex: 'half',
    } as RequestInit);
  const related = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

  it('stores a chunked upload and answers 200 with ReferencedSOPSequence and RetrieveURL', async () => {
    const study = makeStudyFiles(SOURCE(), 2, mkdtempSync(path.join(work, 'chunked-')));
    const bytes = body(study.files.map((f) => readFileSync(f)));
    // A stream body: fetch sends it with Transfer-Encoding: chunked, in small pieces.
    const stream = new ReadableStream({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 1000) controller.enqueue(bytes.subarray(at, at + 1000));
        controller.close();
      },
    });
    const res = await post('/dicomweb/studies', stream, related);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    const answer = await res.json();
    const refs = answer['00081199'].Value;
    expect(refs.map((r: any) => r['00081155'].Value[0]).sort()).toEqual([...study.sopInstanceUids].sort());
    expect(refs[0]['00081190'].Value[0]).toMatch(new RegExp(`^${system.url}/v1/studies/`));
    expect((await recorded(study.studyInstanceUid)).length).toBe(2);
  });

  it('answers 202 with FailedSOPSequence when some instances fail (a non-image SR: 0x0122; garbage: 0xC000)', async () => {
    const study = makeStudyFiles(SOURCE(), 1, mkdtempSync(path.join(work, 'mixed-')));
    const sr = readFileSync(sharedPath('data', 'dicom', 'pydicom', 'test-SR.dcm'));
    const res = await post(
      '/dicomweb/studies',
      body([readFileSync(study.files[0]), sr, Buffer.from('not DICOM at all')]),
      related,
    );
    expect(res.status).toBe(202);
    const answer = await res.json();
    expect(answer['00081199'].Value.length).toBe(1);
    expect(answer['00081198'].Value.map((f: any) => f['00081197'].Value[0]).sort()).toEqual([0x0122, 0xc000]);
  });

  it('answers 409 when no instance is stored (an instance of another study than the URL: 0xA900)', async () => {
    const study = makeStudyFiles(SOURCE(), 1, mkdtempSync(path.join(work, 'other-')));
    const res = await post('/dicomweb/studies/1.2.3.4.5', body([readFileSync(study.files[0])]), related);
    expect(res.status).toBe(409);
    expect((await res.json())['00081198'].Value[0]['00081197'].Value[0]).toBe(0xa900);
    expect(await recorded(study.studyInstanceUid)).toEqual([]);
  });

  it('415 for parts that are not application/dicom, 400 for a body that is not multipart/related or is cut short', async () => {
    const dicom = body([readFileSync(SOURCE())]);
    expect(
      (await post('/dicomweb/studies', dicom, `multipart/related; type="application/dicom+xml"; boundary=${BOUNDARY}`))
        .status,
    ).toBe(415);
    const notRelated = await post('/dicomweb/studies', dicom, 'application/dicom');
    expect(notRelated.status).toBe(400);
    expect((await notRelated.json()).error.code).toBe('VALIDATION_FAILED');
    expect(
      (
        await post(
          '/dicomweb/studies',
          Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\nabc`),
          related,
        )
      ).status,
    ).toBe(400);
    // Authentication is the API's ApiKeyGuard, tested with the rest of the API.
  });
});
