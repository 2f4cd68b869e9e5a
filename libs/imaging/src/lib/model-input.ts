import sharp from 'sharp';
import { normalizePixel, type PreprocessingSpec } from '@xray/shared';
import type { DecodedImage } from './types';

/**
 * Rendering -> model input tensor, NHWC without the batch axis (height * width * channels).
 *
 * Resize (sharp, Lanczos-3 with antialiasing on downscale), as `spec.resize` says:
 * - `stretch`: the whole image scaled to width x height, aspect ratio not kept;
 * - `letterbox`: scaled to fit inside, aspect ratio kept, centred, borders black (0).
 * Then, with `spec.lowPassSigma`, a Gaussian blur of that sigma (model-input pixels), and with
 * `spec.rendering` = `equalized`, global histogram equalisation of the resized rendering.
 * Training and inference both go through this function, so they always agree.
 */
export async function toModelInput(image: DecodedImage, spec: PreprocessingSpec): Promise<Float32Array> {
  const sized = await resizeGrey(image, spec.width, spec.height, spec.resize);
  const smoothed = spec.lowPassSigma ? await blurGrey(sized, spec.width, spec.height, spec.lowPassSigma) : sized;
  const resized = spec.rendering === 'equalized' ? equalizeHistogram(smoothed) : smoothed;
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

/** Gaussian blur of a grey image with sharp (borders mirrored); one byte per pixel. */
async function blurGrey(grey: Uint8Array, width: number, height: number, sigma: number): Promise<Uint8Array> {
  const data = await sharp(grey, { raw: { width, height, channels: 1 } })
    .blur(sigma)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Global histogram equalisation of an 8-bit grey image: each level becomes its cumulative share of
 * the pixels, the darkest level present mapped to 0 and the brightest to 255. Any strictly increasing
 * grey-level change of the input gives the same output.
 */
export function equalizeHistogram(grey: Uint8Array): Uint8Array {
  const histogram = new Uint32Array(256);
  for (const value of grey) histogram[value]++;
  let darkest = 0;
  while (darkest < 255 && histogram[darkest] === 0) darkest++;
  const darkestCount = histogram[darkest];
  const spread = grey.length - darkestCount;
  const mapping = new Uint8Array(256);
  let cumulative = 0;
  for (let level = 0; level < 256; level++) {
    cumulative += histogram[level];
    mapping[level] = spread > 0 ? Math.round((255 * Math.max(0, cumulative - darkestCount)) / spread) : 0;
  }
  return grey.map((value) => mapping[value]);
}
