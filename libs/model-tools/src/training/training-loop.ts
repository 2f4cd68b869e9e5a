import * as tf from '@tensorflow/tfjs';
import { predictedClass } from './metrics';
import { seededRandom, shuffleInPlace } from './random';

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

export interface TrainingCallbacks {
  onStep?: (report: StepReport) => void;
  onEpoch?: (report: EpochReport) => void;
}

export interface ValidationScore {
  validationLoss: number;
  validationAccuracy: number;
}

export interface EarlyStoppingResult {
  epochsRun: number;
  bestEpoch: number;
  history: EpochReport[];
}

export interface EarlyStoppingLoop {
  rowCount: number;
  batchSize: number;
  maxEpochs: number;
  /** Epochs without a lower validation loss before stopping. */
  patience: number;
  seed: number;
  /** The weights restored to the best epoch's values at the end (epoch 0: the values they start with). */
  weights: tf.LayerVariable[];
  /** Validation loss of the starting weights (Infinity: any first epoch is better). */
  startLoss: number;
  /** One optimiser step on these training rows; returns the batch loss. Runs inside tf.tidy. */
  step(rows: number[]): tf.Scalar;
  /** None: no validation data (training on every image), so every epoch runs and the last weights stay. */
  validate?(): Promise<ValidationScore>;
}

const NO_VALIDATION: ValidationScore = { validationLoss: NaN, validationAccuracy: NaN };

/**
 * Mini-batch epochs over seeded shuffles of the training rows, with early stopping on the
 * validation loss; the best epoch's weights are restored at the end.
 */
export async function trainWithEarlyStopping(
  loop: EarlyStoppingLoop,
  callbacks: TrainingCallbacks = {},
): Promise<EarlyStoppingResult> {
  const random = seededRandom(loop.seed);
  const order = Array.from({ length: loop.rowCount }, (_, index) => index);
  const steps = Math.ceil(order.length / loop.batchSize);
  const snapshot = () => loop.weights.map((weight) => weight.read().clone());
  const history: EpochReport[] = [];
  let best = { loss: loop.startLoss, epoch: 0, values: snapshot() };

  for (let epoch = 1; epoch <= loop.maxEpochs; epoch++) {
    const started = Date.now();
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let step = 0; step < steps; step++) {
      const loss = tf.tidy(() => loop.step(order.slice(step * loop.batchSize, (step + 1) * loop.batchSize)));
      lossSum += (await loss.data())[0];
      loss.dispose();
      callbacks.onStep?.({ epoch, epochs: loop.maxEpochs, step: step + 1, steps, loss: lossSum / (step + 1) });
    }
    const { validationLoss, validationAccuracy } = loop.validate ? await loop.validate() : NO_VALIDATION;
    const improved = loop.validate ? validationLoss < best.loss - 1e-5 : true;
    if (improved) {
      tf.dispose(best.values);
      best = { loss: validationLoss, epoch, values: snapshot() };
    }
    const report = {
      epoch,
      epochs: loop.maxEpochs,
      loss: lossSum / steps,
      validationLoss,
      validationAccuracy,
      best: improved,
      seconds: (Date.now() - started) / 1000,
    };
    history.push(report);
    callbacks.onEpoch?.(report);
    if (epoch - best.epoch >= loop.patience) break;
  }
  loop.weights.forEach((weight, k) => weight.write(best.values[k]));
  tf.dispose(best.values);
  return { epochsRun: history.length, bestEpoch: best.epoch, history };
}

/** Weighted soft-target cross-entropy of predicted probabilities (rows normalised by the weights' sum). */
export function weightedCrossEntropy(
  probabilities: tf.Tensor2D,
  targets: tf.Tensor2D,
  weights: tf.Tensor1D,
): tf.Scalar {
  const perRow = tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(probabilities, 1e-7, 1))), 1));
  return tf.div(tf.sum(tf.mul(perRow, weights)), tf.sum(weights));
}

/** Share of rows whose predicted class is any of the row's labels. */
export function anyLabelAccuracy(probabilities: Float32Array[], labels: number[][]): number {
  return (
    probabilities.filter((p, row) => labels[row].includes(predictedClass(p))).length / Math.max(1, probabilities.length)
  );
}

/** Runs `forward` over batches of rows and splits its [batch, width] output back into one array per row. */
export async function predictInBatches<T>(
  rows: T[],
  batchSize: number,
  forward: (chunk: T[]) => tf.Tensor,
): Promise<Float32Array[]> {
  const result: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const chunk = rows.slice(start, start + batchSize);
    const output = tf.tidy(() => forward(chunk));
    const values = (await output.data()) as Float32Array;
    output.dispose();
    const width = values.length / chunk.length;
    for (let i = 0; i < chunk.length; i++) result.push(values.slice(i * width, (i + 1) * width));
  }
  return result;
}
