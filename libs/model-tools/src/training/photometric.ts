import { type Random, seededRandom } from '@xray/shared';
import { uniform } from './random';

/**
 * Random photometric augmentation: how the same radiograph looks after another site's detector,
 * post-processing, VOI window or export. Ranges are symmetric around "no change".
 */
export interface PhotometricConfig {
  /** Probability of a VOI-clipped rendering (a percentile window, then stretched) instead of the plain min-max stretch. */
  voiProbability: number;
  /** The VOI window clips up to this share of the pixels at each end. */
  voiClip: number;
  /** Window centre moved away from the image's mean grey level by up to this fraction of the grey range, either way. */
  windowCentre: number;
  /** Window width scaled by a factor in [1 - windowWidth, 1 + windowWidth]. */
  windowWidth: number;
  /** Gamma drawn log-uniformly in [1 / (1 + gamma), 1 + gamma]. */
  gamma: number;
  /** Contrast about the image mean scaled by a factor in [1 - contrast, 1 + contrast]. */
  contrast: number;
  /** Brightness offset in [-brightness, +brightness] of the grey range. */
  brightness: number;
  /** Probability of Gaussian blur, with a sigma (pixels of the model input) in [0.3, blurSigma]. */
  blurProbability: number;
  blurSigma: number;
  /** Probability of Gaussian noise, with a standard deviation in [0, noiseSigma] of the grey range. */
  noiseProbability: number;
  noiseSigma: number;
}

export const DEFAULT_PHOTOMETRIC: PhotometricConfig = {
  voiProbability: 0.5,
  voiClip: 0.02,
  windowCentre: 0.03,
  windowWidth: 0.15,
  gamma: 0.3,
  contrast: 0.1,
  brightness: 0.03,
  blurProbability: 0.3,
  blurSigma: 1,
  noiseProbability: 0.3,
  noiseSigma: 0.02,
};

/**
 * Half as wide again as the default, blur and noise twice as often: the robustness check's changes
 * (`ROBUSTNESS_PERTURBATIONS`) fall inside these ranges instead of on their edges.
 */
export const WIDE_PHOTOMETRIC: PhotometricConfig = {
  voiProbability: 0.5,
  voiClip: 0.03,
  windowCentre: 0.045,
  windowWidth: 0.225,
  gamma: 0.45,
  contrast: 0.15,
  brightness: 0.045,
  blurProbability: 0.6,
  blurSigma: 1.5,
  noiseProbability: 0.6,
  noiseSigma: 0.03,
};

export const PHOTOMETRIC_PRESETS = { default: DEFAULT_PHOTOMETRIC, wide: WIDE_PHOTOMETRIC } as const;
export type PhotometricPreset = keyof typeof PHOTOMETRIC_PRESETS;

/** One concrete photometric transform; the identity is `IDENTITY_PHOTOMETRIC`. */
export interface PhotometricParams {
  /** Shares of pixels clipped at the dark and bright ends before the stretch (0, 0 = plain min-max). */
  clipLow: number;
  clipHigh: number;
  windowCentre: number;
  windowWidth: number;
  gamma: number;
  contrast: number;
  brightness: number;
  blurSigma: number;
  noiseSigma: number;
  noiseSeed: number;
}

export const IDENTITY_PHOTOMETRIC: PhotometricParams = {
  clipLow: 0,
  clipHigh: 0,
  windowCentre: 0,
  windowWidth: 1,
  gamma: 1,
  contrast: 1,
  brightness: 0,
  blurSigma: 0,
  noiseSigma: 0,
  noiseSeed: 0,
};

/** Draws one transform from the configured ranges. */
export function drawPhotometric(config: PhotometricConfig, random: Random): PhotometricParams {
  const voi = random() < config.voiProbability;
  const blur = random() < config.blurProbability;
  const noise = random() < config.noiseProbability;
  const logGamma = Math.log(1 + config.gamma);
  return {
    clipLow: voi ? uniform(random, 0, config.voiClip) : 0,
    clipHigh: voi ? uniform(random, 0, config.voiClip) : 0,
    windowCentre: uniform(random, -config.windowCentre, config.windowCentre),
    windowWidth: uniform(random, 1 - config.windowWidth, 1 + config.windowWidth),
    gamma: Math.exp(uniform(random, -logGamma, logGamma)),
    contrast: uniform(random, 1 - config.contrast, 1 + config.contrast),
    brightness: uniform(random, -config.brightness, config.brightness),
    blurSigma: blur ? uniform(random, 0.3, config.blurSigma) : 0,
    noiseSigma: noise ? uniform(random, 0, config.noiseSigma) : 0,
    noiseSeed: Math.floor(random() * 2 ** 32),
  };
}

/**
 * Applies a transform to a grey image with values in [0, 1] (row-major, one channel): rendering
 * (min-max or percentile-clipped stretch), window jitter, gamma, contrast and brightness, blur,
 * noise; the result is clamped and quantised to 8 bits, as every served rendering is.
 */
export function applyPhotometric(
  grey: Float32Array,
  width: number,
  height: number,
  params: PhotometricParams,
): Float32Array {
  const [low, high] = percentileRange(grey, params.clipLow, params.clipHigh);
  const range = high - low > 1e-6 ? high - low : 1;
  let out: Float32Array = new Float32Array(grey.length);
  for (let i = 0; i < grey.length; i++) out[i] = clamp01((grey[i] - low) / range);
  // The window is centred on the image's own mean (a VOI centred on the anatomy), then moved and widened or narrowed.
  const stretchedMean = mean(out);
  const windowLow = stretchedMean + params.windowCentre - params.windowWidth * stretchedMean;
  for (let i = 0; i < out.length; i++) out[i] = clamp01((out[i] - windowLow) / params.windowWidth) ** params.gamma;
  const gammaMean = mean(out);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - gammaMean) * params.contrast + gammaMean + params.brightness;
  if (params.blurSigma > 0) out = gaussianBlur(out, width, height, params.blurSigma);
  if (params.noiseSigma > 0) {
    const normal = normalSampler(seededRandom(params.noiseSeed));
    for (let i = 0; i < out.length; i++) out[i] += params.noiseSigma * normal();
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.round(255 * clamp01(out[i])) / 255;
  return out;
}

/**
 * A decoded 8-bit rendering with a photometric transform applied at its own resolution: what
 * another site would have sent for the same radiograph, before the serving path resizes it.
 */
export function perturbRendering(
  pixels: Uint8Array,
  width: number,
  height: number,
  params: PhotometricParams,
): Uint8Array {
  const grey = Float32Array.from(pixels, (value) => value / 255);
  return Uint8Array.from(applyPhotometric(grey, width, height, params), (value) => Math.round(value * 255));
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / Math.max(1, values.length);
}

function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

/** The grey levels below which `low` and above which `high` of the pixels lie (1,024-bin histogram). */
function percentileRange(grey: Float32Array, low: number, high: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const value of grey) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (low <= 0 && high <= 0) return [min, max];
  const bins = 1024;
  const histogram = new Uint32Array(bins);
  const width = (max - min) / bins || 1;
  for (const value of grey) histogram[Math.min(bins - 1, Math.floor((value - min) / width))]++;
  const quantile = (share: number): number => {
    let seen = 0;
    for (let b = 0; b < bins; b++) {
      seen += histogram[b];
      if (seen > share * grey.length) return min + b * width;
    }
    return max;
  };
  return [low > 0 ? quantile(low) : min, high > 0 ? quantile(1 - high) + width : max];
}

/** Separable Gaussian blur (kernel radius 3 sigma), borders replicated. */
function gaussianBlur(image: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((sum, value) => sum + value, 0);
  for (let k = 0; k < kernel.length; k++) kernel[k] /= total;
  const pass = (source: Float32Array, horizontal: boolean): Float32Array => {
    const result = new Float32Array(source.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let value = 0;
        for (let k = -radius; k <= radius; k++) {
          const sx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x;
          const sy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k));
          value += kernel[k + radius] * source[sy * width + sx];
        }
        result[y * width + x] = value;
      }
    }
    return result;
  };
  return pass(pass(image, true), false);
}

/** Standard normal numbers from a uniform source (Box-Muller). */
function normalSampler(random: Random): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
