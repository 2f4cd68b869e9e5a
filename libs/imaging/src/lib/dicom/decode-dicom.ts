import type { DataSet } from 'dicom-parser';
import { XrayError } from '@xray/shared';
import { asXrayError, corrupt, notAnImage } from '../errors';
import type { ImageMetadata, WindowUsed } from '../types';
import { decodeCompressedFrame } from './codecs';
import { colourToGrey, paletteToGrey, readPalette } from './colour';
import { firstEncapsulatedFrame, firstNativeFrame } from './frame';
import { renderGrey, type GreyPipeline } from './grey';
import { readMetadata } from './metadata';
import { parseDicomBytes } from './parse';
import { readPixelModule, type PixelModule } from './pixel-module';
import { toSamples, type Samples } from './samples';
import { findTransferSyntax } from './transfer-syntax';
import { readModalityTransform, readVoiTransform } from './transforms';

/** The first frame's samples as decoded, before any LUT: what lossless codecs must reproduce. */
export interface StoredFrame {
  dataSet: DataSet;
  pixelModule: PixelModule;
  /** Photometric interpretation of `samples` (colour JPEG and J2K YBR_ICT/RCT decode to RGB). */
  photometric: string;
  planar: boolean;
  samples: Samples;
  metadata: ImageMetadata;
}

export async function decodeStoredFrame(bytes: Uint8Array): Promise<StoredFrame> {
  return withCorruptionAsError(() => readStoredFrame(bytes));
}

/**
 * dicom-parser's accessors throw plain errors when an element points past the end of a
 * damaged file; those, like any other failure on the file's content, become CORRUPT_FILE.
 */
async function withCorruptionAsError<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asXrayError(error, 'the DICOM data set is inconsistent');
  }
}

async function readStoredFrame(bytes: Uint8Array): Promise<StoredFrame> {
  const { dataSet, transferSyntaxUid } = parseDicomBytes(bytes);
  const metadata = readMetadata(dataSet, transferSyntaxUid);
  const pixelData = dataSet.elements.x7fe00010;
  if (!pixelData) throw notAnImage(`no Pixel Data (7FE0,0010) in this ${describeSopClass(dataSet)}`);
  const syntax = findTransferSyntax(transferSyntaxUid);
  if (!syntax) {
    throw new XrayError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `The DICOM transfer syntax ${transferSyntaxUid} is not supported.`,
    );
  }
  const px = readPixelModule(dataSet);
  const pixelCount = px.rows * px.columns;
  if (syntax.encoding === 'native') {
    if (pixelData.encapsulatedPixelData) throw corrupt(`encapsulated Pixel Data in ${syntax.name}`);
    const frame = firstNativeFrame(dataSet, pixelData, px);
    const sampleCount = px.photometric === 'YBR_FULL_422' ? pixelCount * 2 : pixelCount * px.samplesPerPixel;
    return {
      dataSet,
      pixelModule: px,
      photometric: px.photometric,
      planar: px.planarConfiguration === 1,
      samples: toSamples(frame, px.bitsAllocated, sampleCount, syntax.bigEndian),
      metadata,
    };
  }
  if (!pixelData.encapsulatedPixelData) throw corrupt(`${syntax.name} needs encapsulated Pixel Data`);
  if (px.bitsAllocated === 1 || (px.bitsAllocated === 32 && syntax.encoding !== 'rle')) {
    throw corrupt(`${syntax.name} with Bits Allocated ${px.bitsAllocated}`);
  }
  const decoded = await decodeCompressedFrame(syntax.encoding, firstEncapsulatedFrame(dataSet, pixelData, px), px);
  return {
    dataSet,
    pixelModule: px,
    photometric: decoded.photometric,
    planar: decoded.planarConfiguration === 1,
    samples: toSamples(decoded.bytes, px.bitsAllocated, pixelCount * px.samplesPerPixel, false),
    metadata,
  };
}

function describeSopClass(ds: DataSet): string {
  const sopClass = ds.string('x00080016')?.trim();
  return sopClass ? `object (SOP Class ${sopClass})` : 'object';
}

/** DICOM bytes -> the 8-bit rendering and its facts (see docs/imaging.md for the pipeline). */
export async function decodeDicom(
  bytes: Uint8Array,
): Promise<{ width: number; height: number; pixels: Uint8Array; window: WindowUsed; metadata: ImageMetadata }> {
  const frame = await decodeStoredFrame(bytes);
  const rendered = await renderStoredFrame(frame);
  return { width: frame.pixelModule.columns, height: frame.pixelModule.rows, ...rendered, metadata: frame.metadata };
}

/** A decoded frame -> the 8-bit rendering (the second half of decodeImage for DICOM). */
export function renderStoredFrame(frame: StoredFrame): Promise<{ pixels: Uint8Array; window: WindowUsed }> {
  return withCorruptionAsError(() => render(frame));
}

function render(frame: StoredFrame): { pixels: Uint8Array; window: WindowUsed } {
  const { pixelModule: px, dataSet: ds } = frame;
  const pixelCount = px.rows * px.columns;
  if (px.samplesPerPixel === 3) {
    return colourToGrey(frame.samples, pixelCount, frame.photometric, frame.planar, px.bitsStored);
  }
  if (frame.photometric === 'PALETTE COLOR') {
    const palette = readPalette(ds);
    if (palette) return paletteToGrey(frame.samples, palette);
  }
  const modality = readModalityTransform(ds, px.signed);
  const pipeline: GreyPipeline = {
    modality,
    voi: frame.photometric.startsWith('MONOCHROME') ? readVoiTransform(ds, modality) : null,
    padding: readPadding(ds, px.signed),
    invert: frame.photometric === 'MONOCHROME1',
  };
  return renderGrey(
    {
      samples: frame.samples,
      bitsAllocated: px.bitsAllocated === 1 ? 8 : px.bitsAllocated,
      bitsStored: px.bitsStored,
      highBit: px.highBit,
      signed: px.signed,
    },
    pipeline,
  );
}

/** Pixel Padding Value (0028,0120) and Pixel Padding Range Limit (0028,0121), US or SS like the pixels. */
function readPadding(ds: DataSet, signed: boolean): GreyPipeline['padding'] {
  const read = (tag: string): number | undefined => {
    const v = ds.uint16(tag);
    return v !== undefined && signed && v > 0x7fff ? v - 0x10000 : v;
  };
  const value = read('x00280120');
  if (value === undefined) return null;
  const limit = read('x00280121') ?? value;
  return { low: Math.min(value, limit), high: Math.max(value, limit) };
}
