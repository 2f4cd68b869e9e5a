import * as tf from '@tensorflow/tfjs';
import { registerWasmGradientKernels } from '@xray/ml';
import { XrayError } from '@xray/shared';
import { fitTemperature, meanNll } from './calibration';
import {
  anyLabelAccuracy,
  type EarlyStoppingResult,
  predictInBatches,
  type TrainingCallbacks,
  trainWithEarlyStopping,
  type ValidationScore,
  weightedCrossEntropy,
} from './training-loop';

export interface FineTuneConfig {
  /** First backbone layer to train (e.g. 'block_14_expand'); its input activations are cached. */
  fromLayer: string;
  maxEpochs: number;
  learningRate: number;
  /** L2 pull of the trained backbone weights towards their pretrained values (L2-SP). */
  weightDecay: number;
  batchSize: number;
  /** Early stopping: epochs without a better validation loss before stopping (best weights are kept). */
  patience: number;
}

export const DEFAULT_FINE_TUNE: Omit<FineTuneConfig, 'fromLayer'> = {
  maxEpochs: 8,
  learningRate: 1e-4,
  weightDecay: 1e-2,
  batchSize: 32,
  patience: 3,
};

/** The backbone's top: from the input of `fromLayer` to the output of `toLayer`, sharing the backbone's layers (and weights). */
export interface BackboneTop {
  /** Backbone input -> the activation the top starts from (what is cached). */
  extractor: tf.LayersModel;
  /** Shape of that activation, without the batch dimension. */
  inputShape: number[];
  /** That activation -> the cut layer's output (e.g. out_relu), batch normalisation in inference mode. */
  forward(x: tf.Tensor): tf.Tensor;
  /** The top's weights that fine-tuning trains (convolutions; batch-norm statistics and scales stay frozen). */
  trainable: tf.LayerVariable[];
  dispose(): void;
}

interface TopStep {
  layer: tf.layers.Layer;
  inputs: tf.SymbolicTensor[];
  output: tf.SymbolicTensor;
  /** Frozen batch normalisation as x * scale + shift (tfjs' batch-norm gradient tiles whole activations: slow on wasm). */
  affine?: { scale: tf.Tensor; shift: tf.Tensor };
}

/**
 * The part of the backbone after `fromLayer`'s input as an eager function over the backbone's own
 * layer objects, so training the top trains the backbone.
 */
export function backboneTop(backbone: tf.LayersModel, fromLayer: string, toLayer: string): BackboneTop {
  registerWasmGradientKernels();
  const layers = backbone.layers;
  const start = layers.findIndex((layer) => layer.name === fromLayer);
  const end = layers.findIndex((layer) => layer.name === toLayer);
  if (start < 0 || end < start)
    throw new XrayError(
      'VALIDATION_FAILED',
      `--fine-tune-from: no layer "${fromLayer}" before "${toLayer}" in the backbone.`,
    );
  const cutInputs = layers[start].inboundNodes[0].inputTensors;
  if (cutInputs.length !== 1)
    throw new XrayError('VALIDATION_FAILED', `--fine-tune-from: "${fromLayer}" must have a single input.`);
  const cut = cutInputs[0];
  const known = new Set<tf.SymbolicTensor>([cut]);
  const steps: TopStep[] = layers.slice(start, end + 1).map((layer) => {
    const node = layer.inboundNodes[0];
    if (node.inputTensors.some((tensor) => !known.has(tensor))) {
      throw new XrayError(
        'VALIDATION_FAILED',
        `--fine-tune-from "${fromLayer}": layer "${layer.name}" also reads activations from before it; choose the start of a block.`,
      );
    }
    known.add(node.outputTensors[0]);
    return {
      layer,
      inputs: node.inputTensors,
      output: node.outputTensors[0],
      affine: layer.getClassName() === 'BatchNormalization' ? frozenBatchNorm(layer) : undefined,
    };
  });
  const output = steps[steps.length - 1].output;
  const tuned = steps.filter((step) => !step.affine).map((step) => step.layer);
  // backboneFromModel froze every layer; the optimiser only updates trainable variables.
  for (const layer of tuned) layer.trainable = true;
  return {
    extractor: tf.model({ inputs: backbone.inputs, outputs: cut, name: 'backbone_bottom' }),
    inputShape: cut.shape.slice(1) as number[],
    forward(x) {
      const values = new Map<tf.SymbolicTensor, tf.Tensor>([[cut, x]]);
      for (const step of steps) {
        const inputs = step.inputs.map((tensor) => values.get(tensor) as tf.Tensor);
        const result = step.affine
          ? tf.add(tf.mul(inputs[0], step.affine.scale), step.affine.shift)
          : (step.layer.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor);
        values.set(step.output, result);
      }
      return values.get(output) as tf.Tensor;
    },
    trainable: tuned.flatMap((layer) => layer.trainableWeights),
    dispose: () => steps.forEach((step) => step.affine && tf.dispose([step.affine.scale, step.affine.shift])),
  };
}

function frozenBatchNorm(layer: tf.layers.Layer): { scale: tf.Tensor; shift: tf.Tensor } {
  const config = layer.getConfig() as { epsilon: number; scale: boolean; center: boolean };
  const weights = layer.getWeights();
  const gamma = config.scale ? weights.shift() : undefined;
  const beta = config.center ? weights.shift() : undefined;
  const [mean, variance] = weights;
  return tf.tidy(() => {
    const scale = tf.mul(tf.rsqrt(tf.add(variance, config.epsilon)), gamma ?? 1);
    return { scale, shift: tf.sub(beta ?? 0, tf.mul(mean, scale)) };
  });
}

/** Global-average-pooled top outputs of cached activations (frozen forward pass). */
export function pooledTopFeatures(
  top: BackboneTop,
  activations: Float32Array[],
  batchSize = 64,
): Promise<Float32Array[]> {
  return predictInBatches(activations, batchSize, (chunk) =>
    tf.mean(top.forward(batchOf(chunk, top.inputShape)), [1, 2]),
  );
}

function batchOf(rows: Float32Array[], shape: number[]): tf.Tensor {
  return tf.stack(rows.map((row) => tf.tensor(row, shape)));
}

export interface FineTuneData {
  activations: Float32Array[];
  targets: Float32Array[];
  weights: number[];
}

export interface FineTuneResult extends EarlyStoppingResult {
  /** Validation loss (temperature-scaled NLL) and accuracy of the head alone, before fine-tuning (epoch 0). */
  start: ValidationScore;
}

/**
 * Trains the backbone top and the (already fitted) head together: Adam with a small learning
 * rate on weighted soft-target cross-entropy plus an L2 pull towards the pretrained weights;
 * batch normalisation runs in inference mode (frozen statistics), dropout in the head stays on.
 * Early stopping on the validation loss after temperature scaling (a temperature is fitted at the
 * end anyway; raw NLL would penalise the sharper but better-ranked predictions fine-tuning makes);
 * the best epoch's weights (top and head) are restored, the head alone being epoch 0. Without
 * validation data (training on every image) all `maxEpochs` epochs run.
 */
export async function fineTune(
  model: BackboneTop,
  head: tf.LayersModel,
  train: FineTuneData,
  validation: { activations: Float32Array[]; labels: number[][] } | undefined,
  config: FineTuneConfig,
  seed: number,
  callbacks: TrainingCallbacks = {},
): Promise<FineTuneResult> {
  const shape = model.inputShape;
  const weights = [...model.trainable, ...head.trainableWeights];
  const pretrained = model.trainable.map((weight) => weight.read().clone());
  const optimizer = tf.train.adam(config.learningRate);
  const validate = validation
    ? async (): Promise<ValidationScore> =>
        validationScores(await predictTop(model, head, validation.activations), validation.labels)
    : undefined;
  const start = validate ? await validate() : { validationLoss: Infinity, validationAccuracy: NaN };
  const result = await trainWithEarlyStopping(
    {
      rowCount: train.activations.length,
      batchSize: config.batchSize,
      maxEpochs: config.maxEpochs,
      patience: config.patience,
      seed,
      weights,
      startLoss: start.validationLoss,
      step(rows) {
        const x = batchOf(
          rows.map((r) => train.activations[r]),
          shape,
        );
        const y = tf.stack(rows.map((r) => tf.tensor1d(train.targets[r]))) as tf.Tensor2D;
        const w = tf.tensor1d(rows.map((r) => train.weights[r]));
        return optimizer.minimize(
          () => {
            const pooled = tf.mean(model.forward(x), [1, 2]);
            const crossEntropy = weightedCrossEntropy(head.apply(pooled, { training: true }) as tf.Tensor2D, y, w);
            const drift = tf.addN(
              model.trainable.map((weight, k) => tf.sum(tf.square(tf.sub(weight.read(), pretrained[k])))),
            );
            return tf.add(crossEntropy, tf.mul(config.weightDecay, drift)) as tf.Scalar;
          },
          true,
          weights.map((weight) => weight.read() as tf.Variable),
        ) as tf.Scalar;
      },
      validate,
    },
    callbacks,
  );
  tf.dispose(pretrained);
  optimizer.dispose();
  return { start, ...result };
}

/** Temperature-scaled validation NLL and any-label accuracy. */
function validationScores(probabilities: Float32Array[], labels: number[][]): ValidationScore {
  return {
    validationLoss: meanNll(probabilities, labels, fitTemperature(probabilities, labels)),
    validationAccuracy: anyLabelAccuracy(probabilities, labels),
  };
}

/** Class probabilities of cached activations through the top and the head (inference mode). */
export function predictTop(
  top: BackboneTop,
  head: tf.LayersModel,
  activations: Float32Array[],
  batchSize = 64,
): Promise<Float32Array[]> {
  return predictInBatches(
    activations,
    batchSize,
    (chunk) => head.predict(tf.mean(top.forward(batchOf(chunk, top.inputShape)), [1, 2])) as tf.Tensor,
  );
}
