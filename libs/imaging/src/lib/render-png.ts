import sharp from 'sharp';
import type { DecodedImage } from './types';

/** The 8-bit rendering as a greyscale PNG at native size. */
export async function renderPng(image: Pick<DecodedImage, 'pixels' | 'width' | 'height'>): Promise<Buffer> {
  return sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}
