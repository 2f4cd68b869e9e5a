import type { PhotometricConfig } from './photometric';
import { type Random, uniform } from './random';

/** Random geometric augmentation, as in the seed's Keras ImageDataGenerator. */
export interface AugmentationConfig {
  /** Random rotation in [-rotationDegrees, +rotationDegrees]. */
  rotationDegrees: number;
  /** Probability of also turning the image by a random non-zero multiple of 90 degrees. */
  quarterTurnProbability: number;
  /** Horizontal/vertical translation as a fraction of the width/height. */
  shift: number;
  /** Shear angle range in degrees. */
  shearDegrees: number;
  /** Zoom factor range [1 - zoom, 1 + zoom]. */
  zoom: number;
  /** Photometric augmentation (contrast, gamma, window, rendering, blur, noise) before the geometric one; none = off. */
  photometric?: PhotometricConfig;
}

export const DEFAULT_AUGMENTATION: AugmentationConfig = {
  rotationDegrees: 20,
  quarterTurnProbability: 0.25,
  shift: 0.1,
  shearDegrees: 10,
  zoom: 0.1,
};

/**
 * Applies one random affine transform to an HWC image (a model input tensor), with bilinear
 * sampling and 'nearest' fill at the borders (Keras' default). Works on the normalised model
 * input: interpolation is linear, so this equals augmenting the pixels before normalising.
 */
export function augmentImage(
  input: Float32Array,
  height: number,
  width: number,
  channels: number,
  config: AugmentationConfig,
  random: Random,
): Float32Array {
  const quarterTurns = random() < config.quarterTurnProbability ? 1 + Math.floor(random() * 3) : 0;
  const degrees = uniform(random, -config.rotationDegrees, config.rotationDegrees) + 90 * quarterTurns;
  const theta = (degrees * Math.PI) / 180;
  const shear = (uniform(random, -config.shearDegrees, config.shearDegrees) * Math.PI) / 180;
  const zoomX = uniform(random, 1 - config.zoom, 1 + config.zoom);
  const zoomY = uniform(random, 1 - config.zoom, 1 + config.zoom);
  const shiftX = uniform(random, -config.shift, config.shift) * width;
  const shiftY = uniform(random, -config.shift, config.shift) * height;

  // Output -> input mapping about the image centre: rotation, then shear, then zoom.
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const a = cos * zoomX;
  const b = (-sin + cos * Math.tan(shear)) * zoomY;
  const c = sin * zoomX;
  const d = (cos + sin * Math.tan(shear)) * zoomY;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;

  const output = new Float32Array(input.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ox = x - cx;
      const oy = y - cy;
      const sx = Math.min(width - 1, Math.max(0, a * ox + b * oy + cx + shiftX));
      const sy = Math.min(height - 1, Math.max(0, c * ox + d * oy + cy + shiftY));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const outBase = (y * width + x) * channels;
      for (let k = 0; k < channels; k++) {
        const p00 = input[(y0 * width + x0) * channels + k];
        const p01 = input[(y0 * width + x1) * channels + k];
        const p10 = input[(y1 * width + x0) * channels + k];
        const p11 = input[(y1 * width + x1) * channels + k];
        output[outBase + k] = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy;
      }
    }
  }
  return output;
}
