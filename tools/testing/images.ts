/**
 * Small real images for end-to-end tests, made in memory: an uncompressed DICOM
 * (explicit VR little endian, 16-bit MONOCHROME2) and a PNG gradient.
 */
import * as zlib from 'node:zlib';

type Value = string | Uint16Array | number;

function element(group: number, elem: number, vr: string, value: Value): Buffer {
  let data: Buffer;
  if (typeof value === 'number') {
    data = Buffer.alloc(2);
    data.writeUInt16LE(value);
  } else if (typeof value === 'string') {
    data = Buffer.from(value.length % 2 ? `${value}${vr === 'UI' ? '\0' : ' '}` : value, 'latin1');
  } else data = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(data.length, 8);
  else head.writeUInt16LE(data.length, 6);
  return Buffer.concat([head, data]);
}

export interface DicomFixtureOptions {
  rows?: number;
  columns?: number;
  bodyPartExamined?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
}

export function makeDicom(options: DicomFixtureOptions = {}): Buffer {
  const rows = options.rows ?? 64;
  const columns = options.columns ?? 64;
  const sop = options.sopInstanceUid ?? `1.2.826.0.1.3680043.10.1.${Date.now()}`;
  const pixels = Uint16Array.from(
    { length: rows * columns },
    (_, i) => ((i % columns) * 4000) / columns + Math.floor(i / columns) * 10,
  );
  const preamble = part10Header(sop, '1.2.840.10008.1.2.1');
  const dataset = Buffer.concat([
    element(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    element(0x0008, 0x0018, 'UI', sop),
    element(0x0008, 0x0060, 'CS', 'CR'),
    element(0x0008, 0x1030, 'LO', 'XR CHEST PA'),
    element(0x0018, 0x0015, 'CS', options.bodyPartExamined ?? 'CHEST'),
    element(0x0020, 0x000d, 'UI', options.studyInstanceUid ?? '1.2.826.0.1.3680043.10.2.1'),
    element(0x0020, 0x000e, 'UI', '1.2.826.0.1.3680043.10.3.1'),
    element(0x0028, 0x0002, 'US', 1),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0010, 'US', rows),
    element(0x0028, 0x0011, 'US', columns),
    element(0x0028, 0x0100, 'US', 16),
    element(0x0028, 0x0101, 'US', 12),
    element(0x0028, 0x0102, 'US', 11),
    element(0x0028, 0x0103, 'US', 0),
    element(0x7fe0, 0x0010, 'OW', pixels),
  ]);
  return Buffer.concat([preamble, dataset]);
}

/** Preamble, "DICM" and the file meta group (with its group length) for one transfer syntax. */
function part10Header(sop: string, transferSyntaxUid: string): Buffer {
  const metaBody = Buffer.concat([
    element(0x0002, 0x0001, 'OB', '\0\u0001'),
    element(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    element(0x0002, 0x0003, 'UI', sop),
    element(0x0002, 0x0010, 'UI', transferSyntaxUid),
  ]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.writeUInt16LE(0x0000, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(metaBody.length, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, metaBody]);
}

/**
 * A deflate bomb: a Deflated Explicit VR Little Endian DICOM whose header asks for a small
 * 512x512 16-bit image but whose data set inflates to `inflatedGiB` GiB of zeros (about 1 MB
 * of file per GiB). Built from one deflated 64 MiB block repeated: after a full flush each
 * copy is self-contained, so the file is made in well under a second.
 */
export function makeDeflateBombDicom(inflatedGiB = 6): Buffer {
  const sop = `1.2.826.0.1.3680043.10.1.${Date.now()}`;
  const pixelHead = Buffer.alloc(12);
  pixelHead.writeUInt16LE(0x7fe0, 0);
  pixelHead.writeUInt16LE(0x0010, 2);
  pixelHead.write('OW', 4, 'latin1');
  pixelHead.writeUInt32LE(0xfffffffe, 8);
  const header = Buffer.concat([
    element(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.1'),
    element(0x0008, 0x0018, 'UI', sop),
    element(0x0008, 0x0060, 'CS', 'CR'),
    element(0x0028, 0x0002, 'US', 1),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0010, 'US', 512),
    element(0x0028, 0x0011, 'US', 512),
    element(0x0028, 0x0100, 'US', 16),
    element(0x0028, 0x0101, 'US', 12),
    element(0x0028, 0x0102, 'US', 11),
    element(0x0028, 0x0103, 'US', 0),
    pixelHead,
  ]);
  const flush = { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 };
  const block = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024), flush);
  const blocks = Array.from({ length: inflatedGiB * 16 }, () => block);
  // 0x03 0x00: a final, empty fixed-Huffman block ends the stream.
  return Buffer.concat([
    part10Header(sop, '1.2.840.10008.1.2.1.99'),
    zlib.deflateRawSync(header, flush),
    ...blocks,
    Buffer.from([0x03, 0x00]),
  ]);
}

/** A greyscale PNG gradient (sharp is a dependency of the imaging library). */
export async function makePng(width = 96, height = 80): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  const pixels = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = (x * 255) / width;
  return sharp(pixels, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}
