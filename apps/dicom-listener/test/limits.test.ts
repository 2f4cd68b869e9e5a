import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { addDicomNode, createDataSource } from '@xray/db';
import { makeDicom, runTool, startSystem, type RunningSystem } from '@xray/testing';
import type { DataSource } from 'typeorm';

/**
 * The listener's limits against DCMTK: DICOM_MAX_ASSOCIATIONS (an extra association is rejected
 * with "local limit exceeded") and MAX_UPLOAD_BYTES per C-STORE instance (0xA700).
 */
jest.setTimeout(120_000);

let system: RunningSystem;
let ds: DataSource;
let dir: string;

beforeAll(async () => {
  system = await startSystem({
    apps: ['dicom-listener'],
    env: { DICOM_AE_TITLE: 'XRAYLIMIT', DICOM_MAX_ASSOCIATIONS: '1', MAX_UPLOAD_BYTES: '200000' },
  });
  ds = createDataSource(system.databaseUrl, { poolSize: 2 });
  await ds.initialize();
  const hospital = await system.createClient('hospital-limits');
  await addDicomNode(ds, { clientId: hospital.clientId, aeTitle: 'HOLDER' });
  await addDicomNode(ds, { clientId: hospital.clientId, aeTitle: 'MODALITY1' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'xray-limits-'));
});

afterAll(async () => {
  await ds?.destroy();
  await system?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A PDU item: type, reserved byte, 16-bit length, value. */
function item(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

function aeTitle(title: string): Buffer {
  return Buffer.from(title.padEnd(16, ' '), 'latin1');
}

/** A minimal A-ASSOCIATE-RQ (PS3.8 9.3.2) proposing Verification in Implicit VR Little Endian. */
function associateRequest(calling: string, called: string): Buffer {
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(16384);
  const presentationContext = Buffer.concat([
    Buffer.from([1, 0, 0, 0]),
    item(0x30, Buffer.from('1.2.840.10008.1.1', 'latin1')),
    item(0x40, Buffer.from('1.2.840.10008.1.2', 'latin1')),
  ]);
  const body = Buffer.concat([
    Buffer.from([0, 1, 0, 0]),
    aeTitle(called),
    aeTitle(calling),
    Buffer.alloc(32),
    item(0x10, Buffer.from('1.2.840.10008.3.1.1.1', 'latin1')),
    item(0x20, presentationContext),
    item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from('1.2.3.4', 'latin1'))])),
  ]);
  const head = Buffer.alloc(6);
  head.writeUInt8(0x01, 0);
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** Opens an association and keeps it open (no release) until the socket is destroyed. */
async function holdAssociation(): Promise<net.Socket> {
  const socket = net.connect(system.dicomPort, '127.0.0.1');
  const pduType = await new Promise<number>((resolve, reject) => {
    socket.once('data', (data: Buffer) => resolve(data[0]));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(associateRequest('HOLDER', 'XRAYLIMIT')));
  });
  expect(pduType).toBe(0x02); // A-ASSOCIATE-AC
  return socket;
}

const echo = () =>
  runTool('echoscu', ['-v', '-aet', 'MODALITY1', '-aec', 'XRAYLIMIT', '127.0.0.1', String(system.dicomPort)]);

it('rejects an association beyond DICOM_MAX_ASSOCIATIONS with "local limit exceeded", and accepts again once one closes', async () => {
  const held = await holdAssociation();
  try {
    const rejected = await echo();
    expect(rejected.code).not.toBe(0);
    expect(rejected.output).toMatch(/Association Rejected/i);
    expect(rejected.output).toMatch(/Local Limit Exceeded/i);
  } finally {
    held.destroy();
  }
  // The held association's slot is released when its connection closes.
  let accepted = await echo();
  for (let i = 0; i < 20 && accepted.code !== 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    accepted = await echo();
  }
  expect(accepted.code).toBe(0);
  const metrics = await (await fetch(`${system.appUrl('dicom-listener')}/metrics`)).text();
  expect(metrics).toMatch(/xray_dicom_association_rejects_total\{[^}]*reason="local-limit-exceeded"[^}]*\} 1/);
});

it('refuses a C-STORE instance larger than MAX_UPLOAD_BYTES with 0xA700 and stores the next one', async () => {
  const big = path.join(dir, 'big.dcm');
  const small = path.join(dir, 'small.dcm');
  writeFileSync(big, makeDicom({ rows: 512, columns: 512, sopInstanceUid: '1.2.826.0.1.3680043.10.9.1' })); // ~512 KiB
  writeFileSync(small, makeDicom({ sopInstanceUid: '1.2.826.0.1.3680043.10.9.2' })); // ~8 KiB
  const result = await runTool('storescu', [
    '-v',
    '--no-halt',
    '-aet',
    'MODALITY1',
    '-aec',
    'XRAYLIMIT',
    '127.0.0.1',
    String(system.dicomPort),
    big,
    small,
  ]);
  const statuses = [...result.output.matchAll(/Received Store Response \(([^)]*)\)/g)].map((m) => m[1]);
  expect(statuses).toEqual([expect.stringMatching(/^Refused: ?Out ?of ?Resources/i), 'Success']);
  const rows = await ds.query('SELECT sop_instance_uid FROM instances ORDER BY sop_instance_uid');
  expect(rows.map((r: any) => r.sop_instance_uid)).toEqual(['1.2.826.0.1.3680043.10.9.2']);
});
