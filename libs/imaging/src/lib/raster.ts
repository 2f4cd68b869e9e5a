import sharp from 'sharp';
import { asXrayError } from './errors';
import { MAX_PIXELS } from './limits';

/**
 * PNG/JPEG -> 8-bit greyscale at native size. EXIF orientation is applied; alpha is dropped
 * over black; colour becomes Rec. 601 luma (the training PNGs are grey stored as RGB).
 */
export async function decodeRaster(bytes: Uint8Array): Promise<{ width: number; height: number; pixels: Uint8Array }> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected 1 channel, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      pixels: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (error) {
    throw asXrayError(error, 'the image cannot be decoded');
  }
}
