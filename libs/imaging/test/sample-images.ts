import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { Context, NativeCodecs } from 'dcmjs-codecs';
import { buildDicom, imageElements, UID } from './dicom-builder';

/** A 64x48, 12-bit ramp: the generated image every encoding test starts from. */
export const RAMP = { rows: 48, columns: 64, stored: Uint16Array.from({ length: 64 * 48 }, (_, i) => (i * 37) % 4096) };

export const rampElements = () =>
  imageElements({ rows: RAMP.rows, columns: RAMP.columns, bitsStored: 12, pixelData: RAMP.stored });

/** The ramp in every uncompressed encoding and header layout. */
export function nativeVariants(): Array<[string, Uint8Array]> {
  const elements = rampElements();
  return [
    ['explicit VR little endian', buildDicom(elements)],
    ['implicit VR little endian', buildDicom(elements, { syntax: 'implicit-le' })],
    ['explicit VR big endian', buildDicom(elements, { syntax: 'explicit-be' })],
    ['no meta header (implicit)', buildDicom(elements, { syntax: 'implicit-le', meta: false })],
    ['no meta header (explicit)', buildDicom(elements, { meta: false })],
    ['no meta header (big endian)', buildDicom(elements, { syntax: 'explicit-be', meta: false })],
    ['"DICM" without the preamble', buildDicom(elements).subarray(128)],
    [
      'deflated',
      buildDicom(elements, { transferSyntaxUid: UID.deflated, transformDataSet: (d) => zlib.deflateRawSync(d) }),
    ],
  ];
}

const ENCODERS: Array<[string, string, (ctx: Context) => Context]> = [
  ['RLE', UID.rle, (ctx) => NativeCodecs.encodeRle(ctx)],
  ['JPEG lossless SV1', UID.jpegLossless, (ctx) => NativeCodecs.encodeJpeg(ctx, { lossy: false })],
  ['JPEG-LS lossless', UID.jpegLs, (ctx) => NativeCodecs.encodeJpegLs(ctx, { lossy: false })],
  ['JPEG 2000 lossless', UID.j2k, (ctx) => NativeCodecs.encodeJpeg2000(ctx, { lossy: false })],
  ['HTJ2K lossless', UID.htj2k, (ctx) => NativeCodecs.encodeHtJpeg2000(ctx, { lossy: false })],
];

/** Encodes a 64x48 frame with one of the package's encoders. */
export async function encodeFrame(
  samples: Uint8Array | Uint16Array,
  bitsStored: number,
  encode: (ctx: Context) => Context,
): Promise<Uint8Array> {
  if (!NativeCodecs.isInitialized()) await NativeCodecs.initializeAsync();
  const context = new Context({
    width: RAMP.columns,
    height: RAMP.rows,
    bitsAllocated: samples instanceof Uint8Array ? 8 : 16,
    bitsStored,
    samplesPerPixel: 1,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    decodedBuffer: new Uint8Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength)),
  });
  return encode(context).getEncodedBuffer() ?? new Uint8Array(0);
}

/**
 * The ramp compressed with the encoders of the same WebAssembly package the decoder uses,
 * encapsulated (split over two fragments where the syntax allows it).
 */
export async function compressedVariants(): Promise<Array<[string, Uint8Array]>> {
  const variants: Array<[string, Uint8Array]> = [];
  for (const [name, uid, encode] of ENCODERS) {
    const encoded = await encodeFrame(RAMP.stored, 12, encode);
    const fragments = uid === UID.rle ? [encoded] : [encoded.subarray(0, 100), encoded.subarray(100)];
    const elements = imageElements({
      rows: RAMP.rows,
      columns: RAMP.columns,
      bitsStored: 12,
      pixelVr: 'OB',
      pixelData: { fragments },
    });
    variants.push([name, buildDicom(elements, { transferSyntaxUid: uid })]);
  }
  return variants;
}

export async function rasterVariants(): Promise<Array<[string, Uint8Array]>> {
  const grey = Uint8Array.from(RAMP.stored, (v) => v >> 4);
  const image = () => sharp(grey, { raw: { width: RAMP.columns, height: RAMP.rows, channels: 1 } });
  return [
    ['PNG', await image().png().toBuffer()],
    ['JPEG', await image().jpeg().toBuffer()],
  ];
}
