import type { ConfidenceBand, LabelProbability } from '@xray/shared';
import type { LayerMaps } from './gradcam/layer-maps';
import type { ModelCard } from './model-card';
import type { OodResult } from './ood/ood-model';

/** One image's classification. `probabilities` are after temperature scaling. */
export interface Classification {
  classIndex: number;
  label: string;
  confidence: number;
  band: ConfidenceBand;
  probabilities: number[];
  top5: LabelProbability[];
  /** Out-of-distribution score and verdict, when the package has an OOD model (card.ood). */
  ood?: OodResult;
}

/**
 * Grad-CAM++ map at the target layer's resolution, normalised to [0, 1] per image
 * (all zeros when the map is identically zero), before any upsampling.
 */
export interface GradCamMap {
  classIndex: number;
  layer: string;
  mapShape: [height: number, width: number];
  map: Float32Array;
}

export interface EngineInfo {
  engine: 'tfjs' | 'onnx';
  backend: string;
  threads: number;
  modelName: string;
  modelVersion: string;
  modelSha256: string;
}

/**
 * What the workers, the CLI and the benchmarks use; implemented by the tfjs engine and the
 * ONNX Runtime engine. Inputs are preprocessed tensors in NHWC order (height x width x channels,
 * as the card's preprocessing says), one Float32Array per image.
 */
export interface InferenceEngine {
  readonly info: EngineInfo;
  readonly card: ModelCard;
  classify(batch: Float32Array[]): Promise<Classification[]>;
  /** Explains `classIndex` (default: the predicted class) at `layer` (default: the card's target layer). */
  explain(input: Float32Array, options?: { classIndex?: number; layer?: string }): Promise<GradCamMap>;
  /** Explains `classIndex` at the target layer and the animation layers together (one backward pass). */
  explainAcrossDepth(input: Float32Array, options?: { classIndex?: number }): Promise<LayerMaps>;
  dispose(): Promise<void>;
}
