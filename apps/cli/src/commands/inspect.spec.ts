import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describeWithShared, makeDicom, sharedPath } from '@xray/testing';
import { inspectFiles } from './inspect';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..', '..');

describe('xray inspect', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-inspect-'));
    await writeFile(join(dir, 'image.dcm'), makeDicom({ rows: 32, columns: 48 }));
    await writeFile(
      join(dir, 'photo.bin'),
      await sharp({ create: { width: 20, height: 10, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
    );
    await writeFile(join(dir, 'notes.txt'), 'not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('as a process: one JSON line per file, PNGs written, exit code 1 when a file failed', async () => {
    const out = join(dir, 'png');
    const files = ['image.dcm', 'photo.bin', 'notes.txt'].map((f) => join(dir, f));
    const result = await run(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'inspect', '--json', '--png', out, ...files],
      { cwd: ROOT },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(result.code).toBe(1);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      ok: true,
      format: 'dicom',
      width: 48,
      height: 32,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      transferSyntax: 'Explicit VR Little Endian',
      photometricInterpretation: 'MONOCHROME2',
    });
    expect(lines[0].window.source).toMatch(/window-tags|percentile/);
    expect(lines[0].decodeMs).toBeGreaterThanOrEqual(0);
    expect(lines[1]).toMatchObject({ ok: true, format: 'png', width: 20, height: 10, window: null }); // by content, not by name
    expect(lines[2]).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_FORMAT' } });
    expect((await readdir(out)).sort()).toEqual(['image.dcm.png', 'photo.bin.png']);
    expect(await sharp(join(out, 'image.dcm.png')).metadata()).toMatchObject({ width: 48, height: 32, channels: 1 });
  }, 60_000);

  it('prints a readable line per file, errors with their code', async () => {
    const lines: string[] = [];
    const results = await inspectFiles([join(dir, 'image.dcm'), join(dir, 'missing.dcm')], {}, (l) => lines.push(l));
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(lines[0]).toMatch(
      /image\.dcm: dicom, Explicit VR Little Endian \(1\.2\.840\.10008\.1\.2\.1\), 48x32, MONOCHROME2, \d+ bytes, window .+, decoded in [\d.]+ ms/,
    );
    expect(lines[1]).toMatch(/missing\.dcm: ERROR NOT_FOUND: Cannot read/);
  });
});

describeWithShared('xray inspect on real files', ['data/dicom/wg04/RG3_JLSL', 'data/dicom/pydicom/rtplan.dcm'], () => {
  it('reports the transfer syntax and window of a radiograph and the error of an RT plan', async () => {
    const lines: string[] = [];
    const results = await inspectFiles(
      [sharedPath('data/dicom/wg04/RG3_JLSL'), sharedPath('data/dicom/pydicom/rtplan.dcm')],
      { json: true },
      (l) => lines.push(l),
    );
    expect(results[0]).toMatchObject({
      ok: true,
      transferSyntax: 'JPEG-LS Lossless',
      width: 1760,
      height: 1760,
      photometricInterpretation: 'MONOCHROME1',
      window: { center: 550, width: 1024, source: 'window-tags' },
    });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'NOT_AN_IMAGE' } });
    expect(lines.map((l) => JSON.parse(l))).toEqual(JSON.parse(JSON.stringify(results)));
  });
});
