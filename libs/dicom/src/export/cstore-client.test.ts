/** C-STORE SCU against DCMTK storescp: delivery, a stopped destination, a refusing one. */
import { freePort, startStoreScp, type StoreScp } from '@xray/testing';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dciodvfy, dcmtk } from '../../test/dicom-tools';
import { tempDir } from '../../test/read-dicom';
import { overlayPng, studyInput } from '../../test/result-fixtures';
import { buildSecondaryCapture, buildStudyReport, type DicomObject } from '../results';
import { cStore } from './cstore-client';

// External tools and servers on a shared machine: allow for slow starts.
jest.setTimeout(60_000);

const tmp = tempDir('xray-cstore-');
let objects: DicomObject[];
let scp: StoreScp | undefined;

beforeAll(async () => {
  const input = studyInput();
  const overlay = await overlayPng();
  const scs = await Promise.all(
    input.instances.map((instance) => buildSecondaryCapture({ ...input, instance, layer: 'top_conv', overlay })),
  );
  objects = [buildStudyReport(input), ...scs];
});
afterEach(async () => {
  await scp?.stop();
  scp = undefined;
});
afterAll(() => tmp.remove());

function outputDir(name: string): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir);
  return dir;
}

describe('C-STORE delivery', () => {
  it('stores the SR and both SCs in storescp, which receives valid objects', async () => {
    scp = await startStoreScp({ port: await freePort(), dir: outputDir('ok') });
    const results = await cStore({ aeTitle: scp.aeTitle, host: '127.0.0.1', port: scp.port }, objects, {
      callingAeTitle: 'XRAY',
    });
    expect(results).toEqual(objects.map((o) => ({ sopInstanceUid: o.sopInstanceUid, status: 'stored', code: 0 })));

    const files = scp.received();
    expect(files.map((f) => path.basename(f)).sort()).toEqual(
      [`SRc.${objects[0].sopInstanceUid}`, `SC.${objects[1].sopInstanceUid}`, `SC.${objects[2].sopInstanceUid}`].sort(),
    );
    const sr = files.find((f) => path.basename(f).startsWith('SRc.'))!;
    const tree = dcmtk('dsrdump', [sr]);
    expect(tree).toContain('(816094009,SCT,"Chest")');
    expect(dciodvfy(sr).errors).toEqual([]);
    for (const sc of files.filter((f) => path.basename(f).startsWith('SC.'))) {
      expect(dcmtk('dcmdump', [sc])).toContain('(0028,0301) CS [YES]');
      expect(dciodvfy(sc).errors).toEqual([]);
    }
    // A retry sends the same UIDs again: the archive sees the same instances, not new ones.
    const again = await cStore({ aeTitle: scp.aeTitle, host: '127.0.0.1', port: scp.port }, objects, {
      callingAeTitle: 'XRAY',
    });
    expect(again.every((r) => r.status === 'stored')).toBe(true);
    expect(scp.received()).toHaveLength(3);
    expect(readFileSync(sr).length).toBeGreaterThan(1000);
  });

  it('reports a stopped destination as retryable, and stores once it is back', async () => {
    const port = await freePort();
    const dir = outputDir('later');
    scp = await startStoreScp({ port, dir });
    await scp.stop();
    const destination = { aeTitle: 'STORESCP', host: '127.0.0.1', port };
    const down = await cStore(destination, objects, { callingAeTitle: 'XRAY', timeoutMs: 3000 });
    expect(down.map((r) => r.status)).toEqual(['retryable', 'retryable', 'retryable']);
    expect(down[0].reason).toMatch(/network error|ECONNREFUSED/i);

    scp = await startStoreScp({ port, dir });
    const back = await cStore(destination, objects, { callingAeTitle: 'XRAY' });
    expect(back.map((r) => r.status)).toEqual(['stored', 'stored', 'stored']);
  });

  it('reports an association the destination refuses', async () => {
    scp = await startStoreScp({ port: await freePort(), dir: outputDir('refuse'), refuse: true });
    const results = await cStore({ aeTitle: scp.aeTitle, host: '127.0.0.1', port: scp.port }, objects.slice(0, 1), {
      callingAeTitle: 'XRAY',
    });
    expect(results[0].status).toBe('failed'); // storescp --refuse rejects permanently (result 1)
    expect(results[0].reason).toMatch(/association rejected/);
    expect(scp.received()).toHaveLength(0);
  });

  it('refuses a bad calling AE title before connecting', async () => {
    await expect(cStore({ aeTitle: 'X', host: '127.0.0.1', port: 1 }, objects, { callingAeTitle: '' })).rejects.toThrow(
      /1 to 16/,
    );
  });
});
