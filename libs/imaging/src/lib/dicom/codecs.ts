import { Context, NativeCodecs } from 'dcmjs-codecs';
import { asXrayError, corrupt } from '../errors';
import { declaredFrameSize } from './bitstream-header';
import type { PixelModule } from './pixel-module';
import type { PixelEncoding } from './transfer-syntax';

/**
 * Compressed frames are decoded by dcmjs-codecs: one WebAssembly module with RLE, libjpeg
 * (8/12/16-bit builds: baseline, extended 12-bit, lossless), CharLS (JPEG-LS), OpenJPEG
 * (JPEG 2000) and an HTJ2K decoder. The module is started lazily, once, and replaced after any failure,
 * because a codec that threw may have left its memory in an unknown state.
 */
let starting: Promise<void> | null = null;
/** Recycle the module once its memory has grown past this (WebAssembly memory never shrinks). */
const MAX_WASM_MEMORY = 1024 * 1024 * 1024;

function start(): Promise<void> {
  starting ??= NativeCodecs.initializeAsync().catch((error: unknown) => {
    starting = null;
    throw error;
  });
  return starting;
}

function recycle(): void {
  starting = null;
  try {
    if (NativeCodecs.isInitialized()) NativeCodecs.release();
  } catch {
    // A broken module is dropped either way.
  }
}

function wasmMemoryBytes(): number {
  const api = (NativeCodecs as unknown as { wasmApi?: { wasmMemory?: WebAssembly.Memory } }).wasmApi;
  return api?.wasmMemory?.buffer.byteLength ?? 0;
}

async function ready(): Promise<void> {
  // Another decode may recycle the module between our await and our turn: re-check, bounded.
  for (let attempt = 0; attempt < 3 && !NativeCodecs.isInitialized(); attempt++) await start();
  if (!NativeCodecs.isInitialized()) throw new Error('the image codecs could not be started');
}

export interface DecodedFrame {
  bytes: Uint8Array;
  /** Photometric interpretation of the decoded samples (JPEG YBR comes out as RGB). */
  photometric: string;
  planarConfiguration: number;
}

const DECODERS: Record<Exclude<PixelEncoding, 'native'>, (ctx: Context, params: Record<string, unknown>) => Context> = {
  rle: (ctx, p) => NativeCodecs.decodeRle(ctx, p),
  jpeg: (ctx, p) => NativeCodecs.decodeJpeg(ctx, p),
  'jpeg-ls': (ctx, p) => NativeCodecs.decodeJpegLs(ctx, p),
  jpeg2000: (ctx, p) => NativeCodecs.decodeJpeg2000(ctx, p),
  htj2k: (ctx, p) => NativeCodecs.decodeHtJpeg2000(ctx, p),
};

/** Decodes one compressed frame and checks it has exactly the size the pixel module promises. */
export async function decodeCompressedFrame(
  encoding: Exclude<PixelEncoding, 'native'>,
  encoded: Uint8Array,
  px: PixelModule,
): Promise<DecodedFrame> {
  const declared = declaredFrameSize(encoding, encoded);
  // JPEG may leave the height to a later DNL marker (0 here).
  if (declared && (declared.width !== px.columns || (declared.height !== 0 && declared.height !== px.rows))) {
    throw corrupt(
      `the ${encoding} bitstream declares ${declared.width}x${declared.height}, the header ${px.columns}x${px.rows}`,
    );
  }
  await ready();
  // Colour JPEG: let libjpeg turn whatever colour space the bitstream holds (JFIF/Adobe markers,
  // component ids) into RGB. Writers often label YCbCr streams "RGB" (PS3.5 8.2.1).
  const convertColorspaceToRgb = encoding === 'jpeg' && px.samplesPerPixel === 3;
  let decoded: Context;
  try {
    const context = new Context({
      width: px.columns,
      height: px.rows,
      bitsAllocated: px.bitsAllocated,
      bitsStored: px.bitsStored,
      samplesPerPixel: px.samplesPerPixel,
      pixelRepresentation: px.signed ? 1 : 0,
      planarConfiguration: px.planarConfiguration,
      photometricInterpretation: px.photometric,
      encodedBuffer: encoded,
    });
    decoded = DECODERS[encoding](context, { convertColorspaceToRgb });
  } catch (error) {
    recycle();
    throw asXrayError(error, `the ${encoding} bitstream cannot be decoded`);
  }
  if (wasmMemoryBytes() > MAX_WASM_MEMORY) recycle();
  const bytes = decoded.getDecodedBuffer() ?? new Uint8Array(0);
  const expected = px.rows * px.columns * px.samplesPerPixel * Math.ceil(px.bitsAllocated / 8);
  if (bytes.length !== expected || decoded.getWidth() !== px.columns || decoded.getHeight() !== px.rows) {
    throw corrupt(
      `the ${encoding} bitstream decodes to ${decoded.getWidth()}x${decoded.getHeight()} (${bytes.length} bytes), ` +
        `not the ${px.columns}x${px.rows} frame the header describes`,
    );
  }
  return {
    bytes,
    photometric: decodedPhotometric(encoding, decoded, px),
    planarConfiguration: decoded.getPlanarConfiguration() ?? 0,
  };
}

/**
 * JPEG decodes to RGB (asked for above); OpenJPEG undoes the YBR_ICT/YBR_RCT component
 * transform itself, although the context still reports the input's photometric.
 */
function decodedPhotometric(encoding: PixelEncoding, decoded: Context, px: PixelModule): string {
  const reported = decoded.getPhotometricInterpretation() ?? px.photometric;
  if ((encoding === 'jpeg2000' || encoding === 'htj2k') && (reported === 'YBR_ICT' || reported === 'YBR_RCT'))
    return 'RGB';
  return reported;
}
