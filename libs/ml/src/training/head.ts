import * as tf from '@tensorflow/tfjs';
import { meanNll } from './calibration';
import { predictedClass } from './metrics';
import { seededRandom, shuffleInPlace } from './random';

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

export const DEFAULT_HEAD: HeadConfig = { hiddenUnits: 0, dropout: 0.2, learningRate: 1e-3, batchSize: 64, maxEpochs: 100, patience: 10 };

/** Layer names of the head as it appears in the shipped model (Keras-style). */
export const HEAD_LAYER_NAMES = { pooling: 'global_average_pooling2d', hidden: 'head_dense', dropout: 'head_dropout', output: 'predictions' };

/** The head's layers, applied to pooled features (training) or to the backbone's pooled output (the shipped model). */
export function headLayers(numClasses: number, config: HeadConfig, seed: number): tf.layers.Layer[] {
  const layers: tf.layers.Layer[] = [];
  if (config.hiddenUnits > 0) {
    layers.push(tf.layers.dense({ units: config.hiddenUnits, activation: 'relu', name: HEAD_LAYER_NAMES.hidden, kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  }
  if (config.dropout > 0) layers.push(tf.layers.dropout({ rate: config.dropout, name: HEAD_LAYER_NAMES.dropout, seed }));
  layers.push(
    tf.layers.dense({ units: numClasses, activation: 'softmax', name: HEAD_LAYER_NAMES.output, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
  );
  return layers;
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

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  validationLoss: number;
  validationAccuracy: number;
  best: boolean;
  seconds: number;
}

export interface StepReport {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
}

export interface HeadTrainingResult {
  epochsRun: number;
  bestEpoch: number;
  history: EpochReport[];
}

/**
 * Trains the head with Adam on weighted soft-target cross-entropy; after each epoch measures
 * the validation loss and any-label top-1 accuracy; stops after `patience` epochs without a
 * lower validation loss and restores the best weights.
 */
export async function trainHead(
  head: tf.LayersModel,
  train: HeadTrainingData,
  validation: HeadValidationData,
  config: HeadConfig,
  seed: number,
  callbacks: { onStep?: (report: StepReport) => void; onEpoch?: (report: EpochReport) => void } = {},
): Promise<HeadTrainingResult> {
  const random = seededRandom(seed);
  const optimizer = tf.train.adam(config.learningRate);
  const order = train.features.map((_, index) => index);
  const steps = Math.ceil(order.length / config.batchSize);
  const history: EpochReport[] = [];
  let best = { loss: Infinity, epoch: 0, weights: head.getWeights().map((w) => w.clone()) };

  for (let epoch = 1; epoch <= config.maxEpochs; epoch++) {
    const started = Date.now();
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let step = 0; step < steps; step++) {
      const rows = order.slice(step * config.batchSize, (step + 1) * config.batchSize);
      const loss = tf.tidy(() => {
        const x = tf.stack(rows.map((r) => tf.tensor1d(train.features[r])));
        const y = tf.stack(rows.map((r) => tf.tensor1d(train.targets[r])));
        const w = tf.tensor1d(rows.map((r) => train.weights[r]));
        return optimizer.minimize(() => {
          const p = head.apply(x, { training: true }) as tf.Tensor2D;
          const perRow = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1));
          return tf.div(tf.sum(tf.mul(perRow, w)), tf.sum(w)) as tf.Scalar;
        }, true) as tf.Scalar;
      });
      lossSum += (await loss.data())[0];
      loss.dispose();
      callbacks.onStep?.({ epoch, epochs: config.maxEpochs, step: step + 1, steps, loss: lossSum / (step + 1) });
    }
    const probabilities = await predictHead(head, validation.features);
    const validationLoss = meanNll(probabilities, validation.labels);
    const validationAccuracy = probabilities.filter((p, row) => validation.labels[row].includes(predictedClass(p))).length / Math.max(1, probabilities.length);
    const improved = validationLoss < best.loss - 1e-5;
    if (improved) {
      best.weights.forEach((w) => w.dispose());
      best = { loss: validationLoss, epoch, weights: head.getWeights().map((w) => w.clone()) };
    }
    const report = { epoch, epochs: config.maxEpochs, loss: lossSum / steps, validationLoss, validationAccuracy, best: improved, seconds: (Date.now() - started) / 1000 };
    history.push(report);
    callbacks.onEpoch?.(report);
    if (epoch - best.epoch >= config.patience) break;
  }
  head.setWeights(best.weights);
  best.weights.forEach((w) => w.dispose());
  optimizer.dispose();
  return { epochsRun: history.length, bestEpoch: best.epoch, history };
}

export async function predictHead(head: tf.LayersModel, features: Float32Array[], batchSize = 256): Promise<Float32Array[]> {
  const result: Float32Array[] = [];
  for (let start = 0; start < features.length; start += batchSize) {
    const chunk = features.slice(start, start + batchSize);
    const output = tf.tidy(() => head.predict(tf.stack(chunk.map((f) => tf.tensor1d(f)))) as tf.Tensor);
    const values = (await output.data()) as Float32Array;
    output.dispose();
    const width = values.length / chunk.length;
    for (let i = 0; i < chunk.length; i++) result.push(values.slice(i * width, (i + 1) * width));
  }
  return result;
}
