import type { BandThresholds, PreprocessingSpec } from '@xray/shared';

/**
 * `model-card.json` inside a model package (a folder with a tfjs LayersModel `model.json`
 * + weight shards, and optionally `model.onnx` / `gradcam.onnx`).
 */
export interface ModelCard {
  name: string;
  version: string;
  /** e.g. 'MobileNetV2-0.35 + GAP + Dense(22)' or 'DenseNet201 + GAP + Dense(1024) + Dense(22)'. */
  architecture: string;
  preprocessing: PreprocessingSpec;
  labels: string[];
  gradcam: {
    /** Keras name of the layer whose post-activation output is explained, e.g. 'out_relu' or 'conv5_block32_concat'. */
    targetLayer: string;
    /** Optional earlier layers for the animation across blocks. */
    animationLayers?: string[];
  };
  bands: BandThresholds;
  /** Softmax temperature fitted on the validation split (1 = uncalibrated). */
  temperature?: number;
  /**
   * Test-time augmentation: 'hflip' averages each image's logits with its left-right mirror's
   * before the temperature (absent = the image alone). The OOD score uses the image alone.
   */
  testTimeAugmentation?: TestTimeAugmentation;
  training?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  /** sha256 (hex) over the weight shards in manifest order; checked at load. */
  weightsSha256: string;
  /** Files of other engines' graphs, relative to the package folder. */
  onnx?: { model?: string; gradcam?: string };
  /** Out-of-distribution warning: Mahalanobis distance of the pooled features (libs/ml/src/ood). */
  ood?: OodCard;
}

export const TEST_TIME_AUGMENTATIONS = ['hflip'] as const;
export type TestTimeAugmentation = (typeof TEST_TIME_AUGMENTATIONS)[number];

export interface OodCard {
  /** Binary file in the package (float32 means, components, variances) and its sha256. */
  file: string;
  sha256: string;
  /** The layer whose output is the feature vector (the global average pooling before the head). */
  featureLayer: string;
  dimensions: number;
  classes: number;
  components: number;
  residualVariance: number;
  /** Scores above it get the `out-of-distribution` warning. */
  threshold: number;
  /** How the model and threshold were fitted. */
  fit: {
    trainImages: number;
    shrinkage: number;
    /** Share of validation images whose score the threshold should leave above it (e.g. 0.01). */
    targetValidationShare: number;
    validationImages: number;
    validationShareAbove: number;
    /**
     * Set when the package was trained on every image (no validation left): the threshold is the
     * split run's threshold over its median training score, times this model's median training
     * score; the validation figures above are the split run's.
     */
    thresholdToMedianTrainingScore?: number;
  };
}
