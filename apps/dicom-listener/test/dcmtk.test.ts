import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import * as dicomParser from 'dicom-parser';
import { addDicomNode, createDataSource } from '@xray/db';
import { readDicomHeader } from '@xray/dicom';
import { runTool, sharedPath, startSystem, TEST_REDIS_URL, type IssuedClient, type RunningSystem } from '@xray/testing';
import type { DataSource } from 'typeorm';

/**
 * The DICOM listener as a process (with the gateway and both workers) against DCMTK's echoscu
 * and storescu: association policy, statuses per instance, and what is recorded.
 */
jest.setTimeout(240_000);

let system: RunningSystem;
let ds: DataSource;
let hospital: IssuedClient;

beforeAll(async () => {
  system = await startSystem({
    // The listener alone: these cases check what it stores, records and enqueues (the pipeline e2e tests cover the rest).
    apps: ['dicom-listener'],
    env: { DICOM_AE_TITLE: 'XRAYTEST', DICOM_ASSOCIATION_TIMEOUT_MS: '2000' },
  });
  ds = createDataSource(system.databaseUrl, { poolSize: 2 });
  await ds.initialize();
  hospital = await system.createClient('hospital-dcmtk');
  await addDicomNode(ds, { clientId: hospital.clientId, aeTitle: 'MODALITY1' });
  await addDicomNode(ds, { clientId: hospital.clientId, aeTitle: 'PINNED', host: '10.9.9.9' });
});

afterAll(async () => {
  await ds?.destroy();
  await system?.stop();
});

const port = () => String(system.dicomPort);

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`${system.appUrl('dicom-listener')}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .join('\n');
}

describe('C-ECHO and the association policy', () => {
  it('accepts a registered calling AE', async () => {
    const result = await runTool('echoscu', ['-aet', 'MODALITY1', '-aec', 'XRAYTEST', '127.0.0.1', port()]);
    expect([result.code, result.output]).toEqual([0, expect.any(String)]);
  });

  it('rejects an unknown calling AE with calling-AE-not-recognized', async () => {
    const result = await runTool('echoscu', ['-v', '-aet', 'STRANGER', '-aec', 'XRAYTEST', '127.0.0.1', port()]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/Association Rejected/i);
    expect(result.output).toMatch(/Calling AE Title Not Recognized/i);
  });

  it('rejects a wrong called AE with called-AE-not-recognized', async () => {
    const result = await runTool('echoscu', ['-v', '-aet', 'MODALITY1', '-aec', 'NOTUS', '127.0.0.1', port()]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/Called AE Title Not Recognized/i);
  });

  it('rejects a registered AE connecting from another host', async () => {
    const result = await runTool('echoscu', ['-v', '-aet', 'PINNED', '-aec', 'XRAYTEST', '127.0.0.1', port()]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/Calling AE Title Not Recognized/i);
  });

  it('closes a connection that sends no association request within DICOM_ASSOCIATION_TIMEOUT_MS', async () => {
    const socket = net.connect(system.dicomPort, '127.0.0.1');
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
      setTimeout(() => reject(new Error('still open after 10 s')), 10_000);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it('counts rejects by reason', async () => {
    const rejects = await metric('xray_dicom_association_rejects_total');
    expect(rejects).toMatch(/reason="unknown-calling-ae"[^\n]* 1/);
    expect(rejects).toMatch(/reason="wrong-called-ae"[^\n]* 1/);
    expect(rejects).toMatch(/reason="host-mismatch"[^\n]* 1/);
  });
});

async function storescu(files: string[], extra: string[] = []) {
  return runTool('storescu', ['-v', '-aet', 'MODALITY1', '-aec', 'XRAYTEST', ...extra, '127.0.0.1', port(), ...files]);
}

/** storescu -v prints one "Received Store Response (Status)" line per instance, in order. */
function storeStatuses(output: string): string[] {
  return [...output.matchAll(/Received Store Response \(([^)]*)\)/g)].map((m) => m[1]);
}

/** Each WG04 radiograph with the storescu option that proposes its own (compressed) transfer syntax. */
const WG04: Array<[string, string[]]> = [
  ['RG1_JLSN', ['-xu']],
  ['RG1_J2KI', ['-xw']],
  ['RG2_JPLL', ['-xs']],
  ['RG2_RLE', ['-xr']],
  ['RG2_UNC', []],
  ['RG2_J2KR', ['-xv']],
  ['RG3_JPLY', ['-xx']],
  ['RG3_JLSL', ['-xt']],
];

/**
 * The Pixel Data value (native, or the encapsulated fragments). storescu re-encodes the header it sends (group
 * lengths, padding), but passes compressed pixel data through: what we store must hold it unchanged.
 */
function pixelDataOf(part10: Buffer): Buffer {
  const element = dicomParser.parseDicom(part10).elements.x7fe00010;
  expect(element).toBeDefined();
  return part10.subarray(element.dataOffset, element.dataOffset + element.length);
}

describe('C-STORE with storescu', () => {
  it('stores WG04 radiographs in compressed syntaxes (MONOCHROME1 too) as sent, without transcoding', async () => {
    for (const [name, option] of WG04) {
      const file = sharedPath('data', 'dicom', 'wg04', name);
      // -R: propose only the file's own transfer syntax, so the compressed bytes arrive as they are.
      const result = await storescu([file], ['-R', ...option]);
      expect([name, storeStatuses(result.output), result.code]).toEqual([name, ['Success'], 0]);
      const original = readFileSync(file);
      const header = readDicomHeader(original);
      const [row] = await ds.query(
        'SELECT object_key, study_id FROM instances WHERE client_id = $1 AND sop_instance_uid = $2',
        [hospital.clientId, header.sopInstanceUid],
      );
      expect(row).toBeDefined();
      const stored = readFileSync(path.join(system.storageDir, row.object_key));
      expect(readDicomHeader(stored).transferSyntaxUid).toBe(header.transferSyntaxUid);
      // DCMTK re-encodes RLE as it sends (its own codec); the other syntaxes it passes through.
      if (name !== 'RG2_RLE') expect([name, pixelDataOf(stored).equals(pixelDataOf(original))]).toEqual([name, true]);
    }
    // Grouped by StudyInstanceUID per client, and an inference job per instance.
    const studies = await ds.query(
      'SELECT study_instance_uid, count(i.id)::int AS n FROM studies s JOIN instances i ON i.study_id = s.id WHERE s.client_id = $1 GROUP BY 1',
      [hospital.clientId],
    );
    const uids = new Set(
      WG04.map(([name]) => readDicomHeader(readFileSync(sharedPath('data', 'dicom', 'wg04', name))).studyInstanceUid),
    );
    expect(studies.length).toBe(uids.size);
    const queue = new Queue('inference', { connection: { url: TEST_REDIS_URL }, prefix: system.queuePrefix });
    try {
      const ids: Array<{ id: string }> = await ds.query('SELECT id FROM instances WHERE client_id = $1', [
        hospital.clientId,
      ]);
      const jobs = await Promise.all(ids.map((row) => queue.getJob(row.id)));
      expect(jobs.map((job) => job?.data.instanceId)).toEqual(ids.map((row) => row.id));
    } finally {
      await queue.close();
    }
  });

  it('answers success to a re-send and stores nothing new', async () => {
    const file = sharedPath('data', 'dicom', 'pydicom', 'SC_rgb_expb.dcm');
    expect(storeStatuses((await storescu([file])).output)).toEqual(['Success']);
    const before = await ds.query('SELECT count(*)::int AS n FROM instances WHERE client_id = $1', [hospital.clientId]);
    const result = await storescu([file]);
    expect(storeStatuses(result.output)).toEqual(['Success']);
    const after = await ds.query('SELECT count(*)::int AS n FROM instances WHERE client_id = $1', [hospital.clientId]);
    expect(after[0].n).toBe(before[0].n);
  });

  it('refuses non-image SOP classes at negotiation', async () => {
    for (const file of ['test-SR.dcm', 'rtplan.dcm', 'MR_small.dcm']) {
      const result = await storescu([sharedPath('data', 'dicom', 'pydicom', file)], ['-R']);
      expect([file, result.output]).toEqual([
        file,
        expect.stringMatching(/no presentation context|No Acceptable Presentation Contexts/i),
      ]);
      expect(storeStatuses(result.output)).toEqual([]);
    }
  });

  it('answers a data set it cannot place with 0xC000 and an error comment; the association goes on', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xray-dcmtk-bad-'));
    try {
      const bad = path.join(dir, 'no-study-uid.dcm');
      const good = path.join(dir, 'good.dcm');
      copyFileSync(sharedPath('data', 'dicom', 'wg04', 'RG3_JPLY'), bad);
      copyFileSync(sharedPath('data', 'dicom', 'wg04', 'RG3_JPLY'), good);
      // New SOP Instance UIDs (not deduplicated against earlier cases); the bad one loses its StudyInstanceUID.
      expect((await runTool('dcmodify', ['-nb', '-gin', '-ea', '(0020,000d)', bad])).code).toBe(0);
      expect((await runTool('dcmodify', ['-nb', '-gin', good])).code).toBe(0);
      // --no-halt: storescu stops at a failed instance by default; here it sends the next on the same association.
      const result = await storescu([bad, good], ['-R', '-xx', '--no-halt']);
      expect(storeStatuses(result.output)).toEqual([expect.stringMatching(/^Error: Cannot ?understand/i), 'Success']);
      // The debug dump of the response shows Error Comment (0000,0902).
      const debug = await storescu([bad], ['-R', '-xx', '-d']);
      expect(debug.output).toMatch(/\(0000,0902\)[^\n]*StudyInstanceUID/);
      expect(await metric('xray_dicom_instances_received_total')).toMatch(/outcome="failed"[^\n]* [1-9]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores pydicom Secondary Capture files (RGB, RLE, multi-frame)', async () => {
    for (const [file, option] of [
      ['SC_rgb.dcm', []],
      ['SC_rgb_rle_2frame.dcm', ['-xr']],
      ['SC_rgb_16bit_2frame.dcm', []],
    ] as Array<[string, string[]]>) {
      const result = await storescu([sharedPath('data', 'dicom', 'pydicom', file)], ['-R', ...option]);
      expect([file, storeStatuses(result.output)]).toEqual([file, ['Success']]);
    }
  });
});
