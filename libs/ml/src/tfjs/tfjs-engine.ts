import * as tf from '@tensorflow/tfjs';
import pino from 'pino';
import { XrayError } from '@xray/shared';
import {
  calibratedSoftmax,
  joinBatch,
  meanOverViews,
  toClassification,
  viewsPerImage,
  withTestTimeViews,
} from '../classification';
import type { Classification, GradCamMap, InferenceEngine, EngineInfo } from '../engine';
import type { ModelCard } from '../model-card';
import { type OodModel, oodResult, readOodModel } from '../ood/ood-model';
import { animationLayersOf } from '../gradcam/card-defaults';
import { gradCamPlusPlus } from '../gradcam/gradcam-plus-plus';
import {
  assertClassIndex,
  gradCamAcrossLayers,
  layersByDepth,
  toLayerMaps,
  type LayerMaps,
} from '../gradcam/layer-maps';
import { splitModel, type SplitModel } from '../gradcam/split-model';
import { loadModelPackage, type ModelPackage } from '../package/model-package';
import type { ModelPackageSource } from '../package/package-source';
import { registerWasmGradientKernels } from './wasm-gradients';
import { initTfjsBackend, type BackendOptions } from './backend';

/** The part of a pino logger the engine uses (no patient data is ever passed to it). */
export interface EngineLogger {
  info(fields: object, message: string): void;
}

export interface TfjsEngineOptions extends BackendOptions {
  logger?: EngineLogger;
  /** Run one classification at load so that the first request is not slow (default true). */
  warmUp?: boolean;
  /** The package's card when the caller has read it already (it is parsed once per engine open). */
  card?: ModelCard;
}

/** Loads a model package (or takes a loaded one) and serves it with TensorFlow.js. */
export async function createTfjsEngine(
  source: ModelPackageSource | ModelPackage,
  options: TfjsEngineOptions = {},
): Promise<TfjsEngine> {
  const backend = await initTfjsBackend(options);
  // Fast input-gradient kernels for Grad-CAM++ through deep tails (the maps across depth); idempotent.
  if (backend.backend === 'wasm') registerWasmGradientKernels();
  const pkg = isPackage(source) ? source : await loadModelPackage(source, options.card);
  const ood = await readOodModel(pkg.reader, pkg.card);
  const engine = new TfjsEngine(
    pkg,
    {
      engine: 'tfjs',
      backend: backend.backend,
      threads: backend.threads,
      modelName: pkg.card.name,
      modelVersion: pkg.card.version,
      modelSha256: pkg.card.weightsSha256,
    },
    ood,
  );
  if (options.warmUp !== false) await engine.classify([new Float32Array(engine.inputSize)]);
  const logger = options.logger ?? pino({ name: 'xray-ml' }, pino.destination(2));
  logger.info({ ...engine.info }, 'tfjs inference engine ready');
  return engine;
}

function isPackage(value: unknown): value is ModelPackage {
  return typeof value === 'object' && value !== null && 'model' in value && 'card' in value;
}

export class TfjsEngine implements InferenceEngine {
  readonly card: ModelCard;
  readonly model: tf.LayersModel;
  private readonly splits = new Map<string, SplitModel>();
  /** The same network with the pooled features as a second output (shares the weights), when there is an OOD model. */
  private readonly withFeatures?: tf.LayersModel;

  constructor(
    pkg: ModelPackage,
    readonly info: EngineInfo,
    private readonly ood?: OodModel,
  ) {
    this.card = pkg.card;
    this.model = pkg.model;
    if (ood && pkg.card.ood) {
      this.withFeatures = tf.model({
        inputs: this.model.inputs,
        outputs: [this.model.outputs[0], this.model.getLayer(pkg.card.ood.featureLayer).output as tf.SymbolicTensor],
      });
    }
  }

  /** Number of floats in one preprocessed image. */
  get inputSize(): number {
    const p = this.card.preprocessing;
    return p.width * p.height * p.channels;
  }

  async classify(batch: Float32Array[]): Promise<Classification[]> {
    if (batch.length === 0) return [];
    const views = viewsPerImage(this.card);
    const [scores, features] = tf.tidy(() => {
      const input = this.toTensor(withTestTimeViews(batch, this.card));
      const [probabilities, pooled] = this.withFeatures
        ? (this.withFeatures.predict(input) as tf.Tensor2D[])
        : [this.model.predict(input) as tf.Tensor2D];
      // With several views, their logits are averaged before the temperature: log p is z up to a per-row constant.
      return [views === 1 ? this.calibrated(probabilities) : tf.log(tf.maximum(probabilities, 1e-30)), pooled];
    });
    const rows = (await scores.array()) as number[][];
    const featureRows = features ? ((await features.array()) as number[][]) : undefined;
    tf.dispose([scores, features]);
    const probabilities =
      views === 1 ? rows : meanOverViews(rows, views).map((logits) => calibratedSoftmax(logits, this.card.temperature));
    return probabilities.map((row, i) => {
      const classification = toClassification(row, this.card);
      // The OOD threshold was calibrated on unmirrored images: score the image's own features.
      if (this.ood && featureRows) classification.ood = oodResult(this.ood, featureRows[i * views]);
      return classification;
    });
  }

  async explain(input: Float32Array, options: { classIndex?: number; layer?: string } = {}): Promise<GradCamMap> {
    const result = this.explainBatch([input], options);
    return (await result)[0];
  }

  /** Grad-CAM++ for several images at once (same layer; same class when `classIndex` is given). */
  async explainBatch(
    inputs: Float32Array[],
    options: { classIndex?: number; layer?: string } = {},
  ): Promise<GradCamMap[]> {
    const layer = options.layer ?? this.card.gradcam.targetLayer;
    if (
      options.classIndex !== undefined &&
      !(Number.isInteger(options.classIndex) && options.classIndex >= 0 && options.classIndex < this.card.labels.length)
    ) {
      throw new XrayError(
        'VALIDATION_FAILED',
        `class index ${options.classIndex} is outside 0..${this.card.labels.length - 1}`,
      );
    }
    const split = this.split(layer);
    const classIndex = options.classIndex;
    const input = this.toTensor(inputs);
    let result;
    try {
      result = gradCamPlusPlus(split, input, classIndex === undefined ? undefined : inputs.map(() => classIndex));
    } finally {
      input.dispose();
    }
    const data = await result.maps.data();
    tf.dispose([result.maps, result.logits]);
    const [h, w] = split.shape;
    return result.classIndices.map((classIndex, i) => ({
      classIndex,
      layer,
      mapShape: [h, w],
      map: (data as Float32Array).slice(i * h * w, (i + 1) * h * w),
    }));
  }

  async explainAcrossDepth(input: Float32Array, options: { classIndex?: number } = {}): Promise<LayerMaps> {
    assertClassIndex(this.card.labels, options.classIndex);
    const names = this.model.layers.map((l) => l.name);
    const { targetLayer } = this.card.gradcam;
    const animationLayers = animationLayersOf(this.card, names);
    const [first, ...taps] = layersByDepth(names, targetLayer, animationLayers);
    const key = [first, ...taps].join('>');
    let split = this.splits.get(key);
    if (!split) {
      split = splitModel(this.model, first, taps);
      this.splits.set(key, split);
    }
    const x = this.toTensor([input]);
    let result;
    try {
      result = gradCamAcrossLayers(split, x, options.classIndex === undefined ? undefined : [options.classIndex]);
    } finally {
      x.dispose();
    }
    const layers = [first, ...split.taps];
    const maps = await Promise.all(
      result.maps.map(async (m, i) => ({
        classIndex: result.classIndices[0],
        layer: layers[i],
        mapShape: [m.shape[1], m.shape[2]] as [number, number],
        map: (await m.data()) as Float32Array,
      })),
    );
    tf.dispose(result.maps);
    return toLayerMaps(maps, names, targetLayer, animationLayers);
  }

  async dispose(): Promise<void> {
    for (const split of this.splits.values()) split.dispose();
    this.splits.clear();
    this.model.dispose();
  }

  private split(layer: string): SplitModel {
    let split = this.splits.get(layer);
    if (!split) {
      split = splitModel(this.model, layer);
      this.splits.set(layer, split);
    }
    return split;
  }

  private toTensor(batch: Float32Array[]): tf.Tensor4D {
    const p = this.card.preprocessing;
    return tf.tensor4d(joinBatch(batch, this.card), [batch.length, p.height, p.width, p.channels]);
  }

  /** Temperature scaling: softmax(log p / T) = softmax(z / T) for the network's softmax output p. */
  private calibrated(probabilities: tf.Tensor2D): tf.Tensor2D {
    const t = this.card.temperature ?? 1;
    if (t === 1) return probabilities;
    return tf.softmax(tf.div(tf.log(tf.maximum(probabilities, 1e-30)), t));
  }
}
