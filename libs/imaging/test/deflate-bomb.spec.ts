import * as zlib from 'node:zlib';
import { XrayError } from '@xray/shared';
import { makeDeflateBombDicom } from '@xray/testing';
import { decodeImage } from '../src';
import { buildDicom, imageElements, UID } from './dicom-builder';

describe('deflated DICOM inflation', () => {
  it('stops a deflate bomb at what its header can need: fast, CORRUPT_FILE', async () => {
    const bomb = makeDeflateBombDicom(6); // ~6 MB that inflates to 6 GiB; the header asks for 512x512x16 bit
    const started = Date.now();
    const error = await decodeImage(bomb).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    expect(error).toBeInstanceOf(XrayError);
    expect((error as XrayError).code).toBe('CORRUPT_FILE');
    expect((error as XrayError).message).toMatch(/beyond the \d+ bytes its header can need/);
    // 512 x 512 x 2 bytes + 1 MiB margin inflated at most, not the 512 MiB ceiling.
    expect(Number(/beyond the (\d+) bytes/.exec((error as XrayError).message)![1])).toBeLessThan(2 * 1024 * 1024);
    expect(ms).toBeLessThan(2000);
  });

  it('still inflates a deflated image whose data fits its header', async () => {
    const pixelData = Uint16Array.from({ length: 64 * 48 }, (_, i) => i % 4096);
    const bytes = buildDicom(imageElements({ rows: 64, columns: 48, bitsStored: 12, pixelData }), {
      transferSyntaxUid: UID.deflated,
      transformDataSet: (d) => zlib.deflateRawSync(d),
    });
    const image = await decodeImage(bytes);
    expect([image.width, image.height]).toEqual([48, 64]);
  });
});
