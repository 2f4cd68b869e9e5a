import * as tf from '@tensorflow/tfjs';
import { meanNll } from './calibration';
import {
  anyLabelAccuracy,
  type EarlyStoppingResult,
  predictInBatches,
  type TrainingCallbacks,
  trainWithEarlyStopping,
  weightedCrossEntropy,
} from './training-loop';

export interface HeadConfig {
  /** Hidden Dense(relu) units before the classifier; 0 = a linear classifier on the pooled features. */
  hiddenUnits: number;
  dropout: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** Early stopping: epochs without a better validation loss before stopping (best weights are kept). */
  patience: number;
}

export const DEFAULT_HEAD: HeadConfig = {
  hiddenUnits: 0,
  dropout: 0.2,
  learningRate: 1e-3,
  batchSize: 64,
  maxEpochs: 100,
  patience: 10,
};

/** Layer names of the head as it appears in the shipped model (Keras-style). */
export const HEAD_LAYER_NAMES = {
  pooling: 'global_average_pooling2d',
  hidden: 'head_dense',
  dropout: 'head_dropout',
  output: 'predictions',
};

/** The head's layers, applied to pooled features (training) or to the backbone's pooled output (the shipped model). */
export function headLayers(numClasses: number, config: HeadConfig, seed: number): tf.layers.Layer[] {
  const layers: tf.layers.Layer[] = [];
  if (config.hiddenUnits > 0) {
    layers.push(
      tf.layers.dense({
        units: config.hiddenUnits,
        activation: 'relu',
        name: HEAD_LAYER_NAMES.hidden,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
    );
  }
  if (config.dropout > 0)
    layers.push(tf.layers.dropout({ rate: config.dropout, name: HEAD_LAYER_NAMES.dropout, seed }));
  layers.push(
    tf.layers.dense({
      units: numClasses,
      activation: 'softmax',
      name: HEAD_LAYER_NAMES.output,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return layers;
}

/**
 * Logit adjustment (Menon et al. 2021): the output layer's bias minus tau x log of each class's
 * share of the training images (`classCounts`), so the scores lean less on the training class mix;
 * with square-root class weights, tau 0.5 about cancels it (aims at a balanced mix). In place.
 */
export function adjustForClassPrior(head: tf.LayersModel, classCounts: number[], tau: number): void {
  const output = head.getLayer(HEAD_LAYER_NAMES.output);
  const [kernel, bias] = output.getWeights();
  const shift = logClassPrior(classCounts).map((logPrior) => -tau * logPrior);
  const adjusted = tf.tidy(() => bias.add(tf.tensor1d(shift)));
  output.setWeights([kernel, adjusted]);
  adjusted.dispose();
}

/** log of each class's share of the images (a multi-label image counts for each of its labels). */
export function logClassPrior(classCounts: number[]): number[] {
  const total = classCounts.reduce((sum, count) => sum + count, 0);
  // A class without images keeps the prior of one image, not an infinite boost.
  return classCounts.map((count) => Math.log(Math.max(count, 1) / total));
}

export function buildHead(inputDim: number, numClasses: number, config: HeadConfig, seed: number): tf.Sequential {
  const model = tf.sequential();
  headLayers(numClasses, config, seed).forEach((layer, index) => {
    if (index === 0) model.add(tf.layers.inputLayer({ inputShape: [inputDim] }));
    model.add(layer);
  });
  return model;
}

export interface HeadTrainingData {
  features: Float32Array[];
  /** Soft targets: a multi-label row spreads its mass evenly over its labels. */
  targets: Float32Array[];
  /** Per-row loss weights (class balancing). */
  weights: number[];
}

export interface HeadValidationData {
  features: Float32Array[];
  labels: number[][];
}

/**
 * Trains the head with Adam on weighted soft-target cross-entropy; after each epoch measures
 * the validation loss and any-label top-1 accuracy; stops after `patience` epochs without a
 * lower validation loss and restores the best weights. Without validation data: `maxEpochs` epochs.
 */
export async function trainHead(
  head: tf.LayersModel,
  train: HeadTrainingData,
  validation: HeadValidationData | undefined,
  config: HeadConfig,
  seed: number,
  callbacks: TrainingCallbacks = {},
): Promise<EarlyStoppingResult> {
  const optimizer = tf.train.adam(config.learningRate);
  const result = await trainWithEarlyStopping(
    {
      rowCount: train.features.length,
      batchSize: config.batchSize,
      maxEpochs: config.maxEpochs,
      patience: config.patience,
      seed,
      weights: head.trainableWeights,
      startLoss: Infinity,
      step(rows) {
        const x = tf.stack(rows.map((r) => tf.tensor1d(train.features[r])));
        const y = tf.stack(rows.map((r) => tf.tensor1d(train.targets[r]))) as tf.Tensor2D;
        const w = tf.tensor1d(rows.map((r) => train.weights[r]));
        return optimizer.minimize(
          () => weightedCrossEntropy(head.apply(x, { training: true }) as tf.Tensor2D, y, w),
          true,
        ) as tf.Scalar;
      },
      validate: validation
        ? async () => {
            const probabilities = await predictHead(head, validation.features);
            return {
              validationLoss: meanNll(probabilities, validation.labels),
              validationAccuracy: anyLabelAccuracy(probabilities, validation.labels),
            };
          }
        : undefined,
    },
    callbacks,
  );
  optimizer.dispose();
  return result;
}

export function predictHead(head: tf.LayersModel, features: Float32Array[], batchSize = 256): Promise<Float32Array[]> {
  return predictInBatches(
    features,
    batchSize,
    (chunk) => head.predict(tf.stack(chunk.map((f) => tf.tensor1d(f)))) as tf.Tensor,
  );
}
