import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';

/** One layer of a network's tail re-expressed as plain tfjs ops on its inputs. */
export type TailOp = (inputs: tf.Tensor[]) => tf.Tensor;

type Config = Record<string, any>;

/**
 * Plain (non-fused) ops with the layer's weights as constants. tfjs-layers runs convolutions
 * as fused ops whose gradient also asks for the filter gradient (Conv2DBackpropFilter, absent
 * on wasm); with plain ops, differentiating w.r.t. the activations never touches the weights.
 * `linearOutput` drops a final softmax so that the tail yields logits. Tensors it derives from
 * the weights are pushed to `constants` (the caller disposes them).
 */
export function tailOp(layer: tf.layers.Layer, linearOutput: boolean, constants: tf.Tensor[]): TailOp {
  const config = layer.getConfig() as Config;
  const weights = namedWeights(layer);
  const activation = (x: tf.Tensor) =>
    activate(x, linearOutput && config.activation === 'softmax' ? 'linear' : config.activation);
  const className = layer.getClassName();
  switch (className) {
    case 'InputLayer':
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return ([x]) => x;
    case 'Conv2D':
      return ([x]) =>
        activation(
          addBias(
            tf.conv2d(
              x as tf.Tensor4D,
              weights.kernel as tf.Tensor4D,
              config.strides,
              config.padding,
              'NHWC',
              config.dilationRate,
            ),
            weights.bias,
          ),
        );
    case 'DepthwiseConv2D':
      return ([x]) =>
        activation(
          addBias(depthwiseConv2d(x as tf.Tensor4D, weights.depthwise_kernel as tf.Tensor4D, config), weights.bias),
        );
    case 'Dense':
      return ([x]) => {
        if (x.rank !== 2) throw unsupported(layer, 'Dense on a tensor of rank > 2');
        return activation(addBias(tf.matMul(x as tf.Tensor2D, weights.kernel as tf.Tensor2D), weights.bias));
      };
    case 'BatchNormalization': {
      const axis = Array.isArray(config.axis) ? config.axis[0] : config.axis;
      if (axis !== -1 && axis !== 3) throw unsupported(layer, `batch normalisation over axis ${axis}`);
      // Inference form: x * scale + shift, folded once.
      const [scale, shift] = tf.tidy(() => {
        const s = tf.div(weights.gamma ?? tf.scalar(1), tf.sqrt(tf.add(weights.moving_variance, config.epsilon)));
        const b = tf.sub(weights.beta ?? tf.scalar(0), tf.mul(weights.moving_mean, s));
        return [s, b];
      });
      constants.push(scale, shift);
      return ([x]) => tf.add(tf.mul(x, scale), shift);
    }
    case 'Activation':
      return ([x]) => activation(x);
    case 'ReLU':
      return ([x]) => {
        const max = config.maxValue;
        if (max === 6) return tf.relu6(x);
        return max === null || max === undefined ? tf.relu(x) : tf.clipByValue(x, 0, max);
      };
    case 'Softmax':
      return ([x]) => (linearOutput ? x : tf.softmax(x));
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = config.padding as number[][];
      return ([x]) =>
        tf.pad(x, [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ]);
    }
    case 'MaxPooling2D':
      return ([x]) => tf.maxPool(x as tf.Tensor4D, config.poolSize, config.strides, config.padding);
    case 'AveragePooling2D':
      return ([x]) => tf.avgPool(x as tf.Tensor4D, config.poolSize, config.strides, config.padding);
    case 'GlobalAveragePooling2D':
      return ([x]) => tf.mean(x, [1, 2], Boolean(config.keepDims));
    case 'GlobalMaxPooling2D':
      return ([x]) => tf.max(x, [1, 2], Boolean(config.keepDims));
    case 'Flatten':
      return ([x]) => tf.reshape(x, [x.shape[0], -1]);
    case 'Reshape':
      return ([x]) => tf.reshape(x, [x.shape[0], ...(config.targetShape as number[])]);
    case 'Concatenate':
      return (xs) => tf.concat(xs, config.axis);
    case 'Add':
      return (xs) => tf.addN(xs);
    case 'Multiply':
      return (xs) => xs.reduce((a, b) => tf.mul(a, b));
    default:
      throw unsupported(layer, `layer type ${className}`);
  }
}

function unsupported(layer: tf.layers.Layer, what: string): XrayError {
  return new XrayError(
    'MODEL_INVALID',
    `Grad-CAM++ cannot differentiate through layer "${layer.name}": ${what} is not supported`,
  );
}

/** Layer weights by their Keras short name (kernel, bias, gamma, moving_mean, ...). */
function namedWeights(layer: tf.layers.Layer): Record<string, tf.Tensor> {
  const values = layer.getWeights();
  return Object.fromEntries(
    layer.weights.map((w, i) => [w.originalName.split('/').pop()!.replace(/:\d+$/, ''), values[i]]),
  );
}

function addBias(x: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  return bias ? tf.add(x, bias) : x;
}

function activate(x: tf.Tensor, name: string | undefined): tf.Tensor {
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'softmax':
      return tf.softmax(x);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    default:
      throw new XrayError('MODEL_INVALID', `Grad-CAM++ cannot differentiate activation "${name}"`);
  }
}

/**
 * Depthwise convolution, differentiable w.r.t. the input: tfjs's own op where the backend has
 * its input-gradient kernel (cpu, tensorflow, and wasm once the tfjs engine registered
 * `registerWasmGradientKernels`; several times cheaper to differentiate through deep tails),
 * else a sum over kernel taps of shifted input slices times per-channel weights (Slice/Pad/Mul
 * only). Channel multiplier 1 (as Keras applications use).
 */
function depthwiseConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, config: Config): tf.Tensor4D {
  if (tf.getKernel('DepthwiseConv2dNativeBackpropInput', tf.getBackend()))
    return tf.depthwiseConv2d(x, kernel, config.strides, config.padding, 'NHWC', config.dilationRate);
  const [kh, kw, channels, multiplier] = kernel.shape;
  if (multiplier !== 1)
    throw new XrayError('MODEL_INVALID', 'Grad-CAM++ supports depthwise convolutions with depth multiplier 1 only');
  const [sh, sw] = config.strides as number[];
  const [dh, dw] = (config.dilationRate as number[] | undefined) ?? [1, 1];
  const [, h, w] = x.shape;
  let outH: number, outW: number, padded: tf.Tensor4D;
  if (config.padding === 'same') {
    outH = Math.ceil(h / sh);
    outW = Math.ceil(w / sw);
    const padH = Math.max((outH - 1) * sh + (kh - 1) * dh + 1 - h, 0);
    const padW = Math.max((outW - 1) * sw + (kw - 1) * dw + 1 - w, 0);
    padded = tf.pad(x, [
      [0, 0],
      [Math.floor(padH / 2), padH - Math.floor(padH / 2)],
      [Math.floor(padW / 2), padW - Math.floor(padW / 2)],
      [0, 0],
    ]);
  } else {
    outH = Math.floor((h - (kh - 1) * dh - 1) / sh) + 1;
    outW = Math.floor((w - (kw - 1) * dw - 1) / sw) + 1;
    padded = x;
  }
  const taps = tf.unstack(tf.reshape(kernel, [kh * kw, channels]));
  let sum: tf.Tensor4D | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const slice = strided(padded, i * dh, j * dw, outH, outW, sh, sw);
      const term = tf.mul(slice, taps[i * kw + j]) as tf.Tensor4D;
      sum = sum ? tf.add(sum, term) : term;
    }
  }
  return sum!;
}

/** x[:, top::sh][:outH], x[:, :, left::sw][:outW] with Slice and Reshape only (both have gradients). */
function strided(
  x: tf.Tensor4D,
  top: number,
  left: number,
  outH: number,
  outW: number,
  sh: number,
  sw: number,
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const needH = outH * sh;
  const needW = outW * sw;
  // Pad at the bottom/right so that outH x sh rows exist from `top`, then keep every sh-th row.
  const grown = tf.pad(x, [
    [0, 0],
    [0, Math.max(0, top + needH - h)],
    [0, Math.max(0, left + needW - w)],
    [0, 0],
  ]);
  const window = tf.slice(grown, [0, top, left, 0], [n, needH, needW, c]);
  if (sh === 1 && sw === 1) return window;
  const split = tf.reshape(window, [n, outH, sh, outW, sw, c]);
  return tf.reshape(tf.slice(split, [0, 0, 0, 0, 0, 0], [n, outH, 1, outW, 1, c]), [n, outH, outW, c]);
}
