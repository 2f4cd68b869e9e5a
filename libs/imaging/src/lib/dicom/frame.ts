import * as dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { asXrayError, corrupt } from '../errors';
import { nativeFrameBytes, type PixelModule } from './pixel-module';

/**
 * The first frame's bytes (multi-frame objects are represented by their first frame).
 * Uncompressed frames are a view into the file; no copy.
 */
export function firstNativeFrame(ds: DataSet, pixelData: Element, px: PixelModule): Uint8Array {
  const frameBytes = nativeFrameBytes(px);
  const available = Math.min(pixelData.length, ds.byteArray.length - pixelData.dataOffset);
  // 1-bit frames may share bytes (PS3.5 8.1.1), so their total is counted in bits.
  const allFrames =
    px.bitsAllocated === 1
      ? Math.ceil((px.rows * px.columns * px.samplesPerPixel * px.numberOfFrames) / 8)
      : frameBytes * px.numberOfFrames;
  if (allFrames > available) {
    throw corrupt(
      `Pixel Data holds ${Math.max(available, 0)} bytes but ${px.numberOfFrames} frame(s) of ${px.columns}x${px.rows} need ${allFrames}`,
    );
  }
  return ds.byteArray.subarray(pixelData.dataOffset, pixelData.dataOffset + frameBytes);
}

/** The first frame's compressed bitstream from encapsulated Pixel Data (PS3.5 A.4). */
export function firstEncapsulatedFrame(ds: DataSet, pixelData: Element, px: PixelModule): Uint8Array {
  const fragments = pixelData.fragments ?? [];
  if (fragments.length === 0) throw corrupt('encapsulated Pixel Data has no fragments');
  if (fragments.length < px.numberOfFrames)
    throw corrupt(`${px.numberOfFrames} frames in ${fragments.length} fragments`);
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length)
      throw corrupt('a Pixel Data fragment runs past the end of the file');
  }
  try {
    if (px.numberOfFrames === 1) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelData, 0, fragments.length);
    }
    if (pixelData.basicOffsetTable && pixelData.basicOffsetTable.length > 0) {
      return dicomParser.readEncapsulatedImageFrame(ds, pixelData, 0);
    }
    if (fragments.length === px.numberOfFrames)
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelData, 0, 1);
    // No offset table and several fragments per frame: frame ends are found by their EOI/EOC markers.
    const offsets = dicomParser.createJPEGBasicOffsetTable(ds, pixelData);
    return dicomParser.readEncapsulatedImageFrame(ds, pixelData, 0, offsets);
  } catch (error) {
    throw asXrayError(error, 'the first frame cannot be read from the Pixel Data fragments');
  }
}
