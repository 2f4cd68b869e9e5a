/**
 * How a decoded 8-bit greyscale rendering becomes the model's input tensor.
 * Stored in the model card so that training, inference and explanation always agree.
 */
export type ResizeMode = 'stretch' | 'letterbox';

/** `minus1to1`: x / 127.5 - 1 (MobileNetV2, Keras applications); `zero1`: x / 255; `imagenet`: torch-style mean/std. */
export type Normalization = 'minus1to1' | 'zero1' | 'imagenet';

/**
 * `as-decoded` (the default): the decoded rendering's grey levels as they are; `equalized`: global
 * histogram equalisation after the resize, so a monotonic grey-level change between sites (contrast,
 * brightness, gamma, VOI window) barely changes the model input.
 */
export type Rendering = 'as-decoded' | 'equalized';

export interface PreprocessingSpec {
  width: number;
  height: number;
  /** 3 = the grey rendering replicated into RGB. */
  channels: 1 | 3;
  normalization: Normalization;
  resize: ResizeMode;
  /** Absent = `as-decoded` (packages from before the option). */
  rendering?: Rendering;
  /**
   * Gaussian blur sigma (pixels of the model input) applied after the resize: damps pixel noise,
   * which ImageNet backbones amplify, so a noisier detector does not flip the label. Absent = none.
   */
  lowPassSigma?: number;
}

/** The range `lowPassSigma` may take (sharp's Gaussian blur starts at 0.3). */
export const LOW_PASS_SIGMA_RANGE = { min: 0.3, max: 5 } as const;

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** One 8-bit grey level (0-255) of a rendering as the model's input value for `channel`. */
export function normalizePixel(kind: Normalization, value: number, channel: number): number {
  switch (kind) {
    case 'minus1to1':
      return value / 127.5 - 1;
    case 'zero1':
      return value / 255;
    case 'imagenet':
      return (value / 255 - IMAGENET.mean[channel]) / IMAGENET.std[channel];
  }
}
