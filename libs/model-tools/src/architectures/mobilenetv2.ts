import * as tf from '@tensorflow/tfjs';

type Sym = tf.SymbolicTensor;

export interface MobileNetV2Options {
  /** Width multiplier (Teachable Machine: 0.35; nsfwjs: 1.0). */
  alpha: number;
  /** Square input size (224 for the pretrained backbones at hand). */
  inputSize: number;
  classes: number;
  /** 'dense': GAP -> Dense(classes, softmax) named `predictions`; 'none': the backbone ending at `out_relu`. */
  head?: 'dense' | 'none';
}

/** keras.applications' _make_divisible. */
function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** keras.applications' correct_pad for a 3x3 stride-2 convolution: ((h % 2, 1), (w % 2, 1)). */
function correctPad(x: Sym): [[number, number], [number, number]] {
  const [, h, w] = x.shape as number[];
  return [
    [h % 2, 1],
    [w % 2, 1],
  ];
}

const bn = (x: Sym, name: string) =>
  tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name }).apply(x) as Sym;
const relu6 = (x: Sym, name: string) => tf.layers.reLU({ maxValue: 6, name }).apply(x) as Sym;
const pointwise = (x: Sym, filters: number, name: string) =>
  tf.layers
    .conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: 'glorotUniform', name })
    .apply(x) as Sym;

function invertedResidual(
  input: Sym,
  filters: number,
  alpha: number,
  stride: number,
  expansion: number,
  blockId: number,
): Sym {
  const inChannels = input.shape[3] as number;
  const outChannels = makeDivisible(Math.floor(filters * alpha));
  let prefix = `block_${blockId}_`;
  let x = input;
  if (blockId) {
    x = relu6(
      bn(pointwise(x, expansion * inChannels, `${prefix}expand`), `${prefix}expand_BN`),
      `${prefix}expand_relu`,
    );
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) x = tf.layers.zeroPadding2d({ padding: correctPad(x), name: `${prefix}pad` }).apply(x) as Sym;
  x = tf.layers
    .depthwiseConv2d({
      kernelSize: 3,
      strides: stride,
      useBias: false,
      padding: stride === 1 ? 'same' : 'valid',
      depthwiseInitializer: 'glorotUniform',
      name: `${prefix}depthwise`,
    })
    .apply(x) as Sym;
  x = relu6(bn(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
  x = bn(pointwise(x, outChannels, `${prefix}project`), `${prefix}project_BN`);
  return inChannels === outChannels && stride === 1
    ? (tf.layers.add({ name: `${prefix}add` }).apply([input, x]) as Sym)
    : x;
}

/** [filters, stride, expansion] of blocks 0..16, as keras.applications.MobileNetV2. */
const BLOCKS: Array<[number, number, number]> = [
  [16, 1, 1],
  [24, 2, 6],
  [24, 1, 6],
  [32, 2, 6],
  [32, 1, 6],
  [32, 1, 6],
  [64, 2, 6],
  [64, 1, 6],
  [64, 1, 6],
  [64, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [160, 2, 6],
  [160, 1, 6],
  [160, 1, 6],
  [320, 1, 6],
];

/**
 * MobileNetV2 as keras.applications builds it, with its layer names (Conv1_pad, Conv1,
 * bn_Conv1, block_1_expand, ..., Conv_1, Conv_1_bn, out_relu), random weights, + a head.
 */
export function mobileNetV2(options: MobileNetV2Options): tf.LayersModel {
  const { alpha } = options;
  const input = tf.input({ shape: [options.inputSize, options.inputSize, 3], name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: correctPad(input), name: 'Conv1_pad' }).apply(input) as Sym;
  x = tf.layers
    .conv2d({
      filters: makeDivisible(32 * alpha),
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      useBias: false,
      kernelInitializer: 'glorotUniform',
      name: 'Conv1',
    })
    .apply(x) as Sym;
  x = relu6(bn(x, 'bn_Conv1'), 'Conv1_relu');
  BLOCKS.forEach(
    ([filters, stride, expansion], id) => (x = invertedResidual(x, filters, alpha, stride, expansion, id)),
  );
  const lastFilters = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = tf.layers
    .conv2d({ filters: lastFilters, kernelSize: 1, useBias: false, kernelInitializer: 'glorotUniform', name: 'Conv_1' })
    .apply(x) as Sym;
  x = relu6(bn(x, 'Conv_1_bn'), 'out_relu');
  const name = `mobilenetv2_${alpha}_${options.inputSize}`;
  if (options.head === 'none') return tf.model({ inputs: input, outputs: x, name });
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as Sym;
  const output = tf.layers
    .dense({ units: options.classes, activation: 'softmax', kernelInitializer: 'glorotUniform', name: 'predictions' })
    .apply(x) as Sym;
  return tf.model({ inputs: input, outputs: output, name });
}
