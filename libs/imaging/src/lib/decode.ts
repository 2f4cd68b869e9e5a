import { performance } from 'node:perf_hooks';
import { decodeDicom } from './dicom/decode-dicom';
import { detectFormat } from './format';
import { decodeRaster } from './raster';
import type { DecodedImage } from './types';

/**
 * Bytes -> the 8-bit greyscale rendering the model sees (before resizing). Throws only
 * XrayError: UNSUPPORTED_FORMAT, UNSUPPORTED_TRANSFER_SYNTAX, NOT_AN_IMAGE or CORRUPT_FILE.
 */
export async function decodeImage(bytes: Uint8Array): Promise<DecodedImage> {
  const started = performance.now();
  const format = detectFormat(bytes);
  if (format === 'dicom') {
    const image = await decodeDicom(bytes);
    return { format, ...image, decodeMs: performance.now() - started };
  }
  const raster = await decodeRaster(bytes);
  return {
    format,
    ...raster,
    window: null,
    metadata: { rows: raster.height, columns: raster.width },
    decodeMs: performance.now() - started,
  };
}
