import sharp from 'sharp';
import { normalizePixel, type PreprocessingSpec } from '@xray/shared';
import type { DecodedImage } from './types';

/**
 * Rendering -> model input tensor, NHWC without the batch axis (height * width * channels).
 *
 * Resize (sharp, Lanczos-3 with antialiasing on downscale), as `spec.resize` says:
 * - `stretch`: the whole image scaled to width x height, aspect ratio not kept;
 * - `letterbox`: scaled to fit inside, aspect ratio kept, centred, borders black (0).
 * Training and inference both go through this function, so they always agree.
 */
export async function toModelInput(image: DecodedImage, spec: PreprocessingSpec): Promise<Float32Array> {
  const resized = await resizeGrey(image, spec.width, spec.height, spec.resize);
  const out = new Float32Array(spec.width * spec.height * spec.channels);
  for (let i = 0, o = 0; i < resized.length; i++) {
    for (let c = 0; c < spec.channels; c++, o++) out[o] = normalizePixel(spec.normalization, resized[i], c);
  }
  return out;
}

/** The rendering resized with sharp; one byte per pixel. */
export async function resizeGrey(
  image: Pick<DecodedImage, 'pixels' | 'width' | 'height'>,
  width: number,
  height: number,
  mode: PreprocessingSpec['resize'],
): Promise<Uint8Array> {
  const { data } = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(width, height, { fit: mode === 'letterbox' ? 'contain' : 'fill', background: { r: 0, g: 0, b: 0 } })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (data.length !== width * height)
    throw new Error(`resize produced ${data.length} bytes for ${width}x${height} grey`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
