import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { FormatSniffer } from './format-sniffer';

async function sniff(chunks: Buffer[]): Promise<{ format?: string; bytes: Buffer }> {
  const sniffer = new FormatSniffer();
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), sniffer, new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
  return { format: sniffer.format, bytes: Buffer.concat(out) };
}

describe('FormatSniffer', () => {
  it('recognises content from the first bytes and passes every byte through', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(10_000, 7)]);
    const chunks = [png.subarray(0, 3), png.subarray(3, 5000), png.subarray(5000)];
    const result = await sniff(chunks);
    expect(result.format).toBe('png');
    expect(result.bytes.equals(png)).toBe(true);
    const dicom = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]);
    expect((await sniff([dicom])).format).toBe('dicom');
  });

  it('stops unsupported content with a 415', async () => {
    await expect(sniff([Buffer.from('%PDF-1.7 not an image')])).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
    });
    await expect(sniff([])).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});
