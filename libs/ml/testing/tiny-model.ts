import * as tf from '@tensorflow/tfjs';
import { BODY_PART_LABELS, DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import type { ModelCard } from '../src/model-card';
import { saveModelPackage } from '../src/package/model-package';

export interface TinyTestModelOptions {
  /** Square input size (default 64). */
  inputSize?: number;
  /** Labels (default the 22 body parts). */
  labels?: string[];
  /** Seed of the random weights (default 1). */
  seed?: number;
  name?: string;
}

/**
 * A tiny real conv net with random weights: conv1 -> conv1_bn -> conv1_relu -> conv2 ->
 * conv2_relu (the Grad-CAM target) -> GAP -> Dense(softmax). Fast on wasm/cpu. For tests only:
 * its predictions mean nothing.
 */
export function buildTinyTestModel(options: TinyTestModelOptions = {}): tf.LayersModel {
  const size = options.inputSize ?? 64;
  const classes = (options.labels ?? BODY_PART_LABELS).length;
  const seed = options.seed ?? 1;
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed * 100 + offset });
  const input = tf.input({ shape: [size, size, 3], name: 'input' });
  let x = tf.layers
    .conv2d({
      name: 'conv1',
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(1),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'conv1_bn', epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'conv1_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      name: 'conv2',
      filters: 16,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      kernelInitializer: init(2),
      biasInitializer: 'zeros',
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'conv2_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ name: 'predictions', units: classes, activation: 'softmax', kernelInitializer: init(3) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'tiny_test_model' });
}

/** Writes the tiny test model as a model package in `dir`; returns its card. */
export async function writeTinyTestModelPackage(dir: string, options: TinyTestModelOptions = {}): Promise<ModelCard> {
  const size = options.inputSize ?? 64;
  const model = buildTinyTestModel(options);
  try {
    return await saveModelPackage(dir, model, {
      name: options.name ?? 'tiny-test-model',
      version: '0.0.0-test',
      architecture: 'TinyConvNet (random weights, for tests only: not a classifier)',
      preprocessing: { width: size, height: size, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
      labels: [...(options.labels ?? BODY_PART_LABELS)],
      gradcam: { targetLayer: 'conv2_relu', animationLayers: ['conv1_relu', 'conv2_relu'] },
      bands: DEFAULT_BAND_THRESHOLDS,
      temperature: 1,
    });
  } finally {
    model.dispose();
  }
}
