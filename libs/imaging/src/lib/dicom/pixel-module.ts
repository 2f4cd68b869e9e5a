import type { DataSet } from 'dicom-parser';
import { corrupt } from '../errors';
import { MAX_PIXELS } from '../limits';

/** Image Pixel module attributes (PS3.3 C.7.6.3) that decoding needs, validated. */
export interface PixelModule {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  photometric: string;
  planarConfiguration: number;
  numberOfFrames: number;
}

export function readPixelModule(ds: DataSet): PixelModule {
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  const bitsAllocated = ds.uint16('x00280100');
  if (!rows || !columns || !bitsAllocated) throw corrupt('Pixel Data without Rows, Columns or Bits Allocated');
  if (rows * columns > MAX_PIXELS) throw corrupt(`image of ${columns}x${rows} pixels is too large`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw corrupt(`Bits Allocated ${bitsAllocated} is not 1, 8, 16 or 32`);
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated)
    throw corrupt(`Bits Stored ${bitsStored} does not fit Bits Allocated ${bitsAllocated}`);
  let highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  // Some writers put nonsense here; the pixel cell layout rule (PS3.5 8.1.1) makes bitsStored-1 the safe reading.
  if (highBit < bitsStored - 1 || highBit >= bitsAllocated) highBit = bitsStored - 1;
  const samplesPerPixel = ds.uint16('x00280002') ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3)
    throw corrupt(`Samples per Pixel ${samplesPerPixel} is not 1 or 3`);
  const numberOfFrames = ds.intString('x00280008') ?? 1;
  if (!Number.isFinite(numberOfFrames) || numberOfFrames < 1)
    throw corrupt(`Number of Frames ${numberOfFrames} is invalid`);
  const photometric = (ds.string('x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase();
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: ds.uint16('x00280103') === 1,
    photometric,
    planarConfiguration: ds.uint16('x00280006') ?? 0,
    numberOfFrames,
  };
}

/** Bytes of one uncompressed frame (YBR_FULL_422 stores two samples per pixel). */
export function nativeFrameBytes(px: PixelModule): number {
  const pixels = px.rows * px.columns;
  const samples = px.photometric === 'YBR_FULL_422' ? pixels * 2 : pixels * px.samplesPerPixel;
  return px.bitsAllocated === 1 ? Math.ceil(samples / 8) : samples * (px.bitsAllocated / 8);
}
