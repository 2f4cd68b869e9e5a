import * as tf from '@tensorflow/tfjs';

type Sym = tf.SymbolicTensor;

export interface DenseNetOptions {
  /** Square input size (the seed uses 256). */
  inputSize: number;
  classes: number;
  /** 'seed': GAP -> Dense(1024, relu) -> Dense(classes, softmax); 'none': the backbone ending at `relu`. */
  head?: 'seed' | 'none';
  /** Blocks per dense block (DenseNet201: 6, 12, 48, 32). */
  blocks?: [number, number, number, number];
}

const EPSILON = 1.001e-5;
// Keras's default initialiser (tfjs defaults to glorotNormal, whose truncated normal sampling is slow).
const GROWTH = 32;

const bn = (x: Sym, name: string) => tf.layers.batchNormalization({ axis: -1, epsilon: EPSILON, name }).apply(x) as Sym;
const relu = (x: Sym, name: string) => tf.layers.activation({ activation: 'relu', name }).apply(x) as Sym;
const conv = (
  x: Sym,
  filters: number,
  kernelSize: number,
  name: string,
  options: { strides?: number; padding?: 'same' | 'valid' } = {},
) =>
  tf.layers
    .conv2d({
      filters,
      kernelSize,
      strides: options.strides ?? 1,
      padding: options.padding ?? 'valid',
      useBias: false,
      kernelInitializer: 'glorotUniform',
      name,
    })
    .apply(x) as Sym;

function convBlock(x: Sym, name: string): Sym {
  let y = relu(bn(x, `${name}_0_bn`), `${name}_0_relu`);
  y = conv(y, 4 * GROWTH, 1, `${name}_1_conv`);
  y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
  y = conv(y, GROWTH, 3, `${name}_2_conv`, { padding: 'same' });
  return tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply([x, y]) as Sym;
}

function transitionBlock(x: Sym, name: string): Sym {
  const y = relu(bn(x, `${name}_bn`), `${name}_relu`);
  const channels = y.shape[3] as number;
  const reduced = conv(y, Math.floor(channels * 0.5), 1, `${name}_conv`);
  return tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }).apply(reduced) as Sym;
}

/**
 * DenseNet201 as keras.applications builds it, with its layer names (conv1/conv, pool1,
 * conv2_block1_0_bn, ..., conv5_block32_concat, bn, relu), random weights; with the seed
 * project's head by default.
 */
export function denseNet201(options: DenseNetOptions): tf.LayersModel {
  const blocks = options.blocks ?? [6, 12, 48, 32];
  const input = tf.input({ shape: [options.inputSize, options.inputSize, 3], name: 'input_1' });
  let x = tf.layers
    .zeroPadding2d({
      padding: [
        [3, 3],
        [3, 3],
      ],
      name: 'zero_padding2d',
    })
    .apply(input) as Sym;
  x = conv(x, 64, 7, 'conv1/conv', { strides: 2 });
  x = relu(bn(x, 'conv1/bn'), 'conv1/relu');
  x = tf.layers
    .zeroPadding2d({
      padding: [
        [1, 1],
        [1, 1],
      ],
      name: 'zero_padding2d_1',
    })
    .apply(x) as Sym;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }).apply(x) as Sym;
  blocks.forEach((count, stage) => {
    for (let i = 1; i <= count; i++) x = convBlock(x, `conv${stage + 2}_block${i}`);
    if (stage < 3) x = transitionBlock(x, `pool${stage + 2}`);
  });
  x = relu(bn(x, 'bn'), 'relu');
  if (options.head === 'none') return tf.model({ inputs: input, outputs: x, name: 'densenet201' });
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as Sym;
  x = tf.layers
    .dense({ units: 1024, activation: 'relu', kernelInitializer: 'glorotUniform', name: 'dense' })
    .apply(x) as Sym;
  const output = tf.layers
    .dense({ units: options.classes, activation: 'softmax', kernelInitializer: 'glorotUniform', name: 'dense_1' })
    .apply(x) as Sym;
  return tf.model({ inputs: input, outputs: output, name: 'densenet201' });
}
