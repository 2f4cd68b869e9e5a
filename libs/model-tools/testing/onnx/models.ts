import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { sharedPath } from '@xray/testing';
import sharp from 'sharp';

/**
 * Small models with the Keras layer types and names of MobileNetV2 and DenseNet, for exporter
 * tests, with seeded weights (`seedWeights`).
 */

type L = tf.SymbolicTensor;

function bn(x: L, name: string): L {
  return tf.layers.batchNormalization({ axis: -1, epsilon: 1.001e-5, name }).apply(x) as L;
}

function relu6(x: L, name: string): L {
  return tf.layers.reLU({ maxValue: 6, name }).apply(x) as L;
}

/** MobileNetV2-style: stride-2 ZeroPadding + valid depthwise, residual Add, ReLU6, GAP, Dense softmax. */
export function tinyMobileNet(size = 64, classes = 5, seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' })
    .apply(input) as L;
  x = relu6(bn(x, 'bn_Conv1'), 'Conv1_relu');
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'expanded_conv_depthwise' })
    .apply(x) as L;
  x = relu6(bn(x, 'expanded_conv_depthwise_BN'), 'expanded_conv_depthwise_relu');
  x = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'expanded_conv_project' }).apply(x) as L;
  let shortcut = bn(x, 'expanded_conv_project_BN');
  x = tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'block_1_expand' }).apply(shortcut) as L;
  x = relu6(bn(x, 'block_1_expand_BN'), 'block_1_expand_relu');
  x = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
      name: 'block_1_pad',
    })
    .apply(x) as L;
  x = tf.layers
    .depthwiseConv2d({
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      depthMultiplier: 2,
      useBias: false,
      name: 'block_1_depthwise',
    })
    .apply(x) as L;
  x = relu6(bn(x, 'block_1_depthwise_BN'), 'block_1_depthwise_relu');
  x = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'block_1_project' }).apply(x) as L;
  shortcut = bn(x, 'block_1_project_BN');
  x = tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'block_2_expand' }).apply(shortcut) as L;
  x = relu6(bn(x, 'block_2_expand_BN'), 'block_2_expand_relu');
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'block_2_depthwise' })
    .apply(x) as L;
  x = relu6(bn(x, 'block_2_depthwise_BN'), 'block_2_depthwise_relu');
  x = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'block_2_project' }).apply(x) as L;
  x = bn(x, 'block_2_project_BN');
  x = tf.layers.add({ name: 'block_2_add' }).apply([shortcut, x]) as L;
  x = tf.layers.conv2d({ filters: 32, kernelSize: 1, useBias: false, name: 'Conv_1' }).apply(x) as L;
  x = relu6(bn(x, 'Conv_1_bn'), 'out_relu');
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as L;
  x = tf.layers.dropout({ rate: 0.2, name: 'dropout' }).apply(x) as L;
  const output = tf.layers.dense({ units: classes, activation: 'softmax', name: 'predictions' }).apply(x) as L;
  return seedWeights(tf.model({ inputs: input, outputs: output, name: 'tiny_mobilenet' }), seed);
}

/** DenseNet-style: 7x7/2 stem, max pool, pre-activation dense blocks with concat, avg-pool transition, nested backbone. */
export function tinyDenseNet(size = 64, classes = 5): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: 3, name: 'zero_padding2d' }).apply(input) as L;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 7, strides: 2, useBias: false, name: 'conv1/conv' }).apply(x) as L;
  x = bn(x, 'conv1/bn');
  x = tf.layers.activation({ activation: 'relu', name: 'conv1/relu' }).apply(x) as L;
  x = tf.layers.zeroPadding2d({ padding: 1, name: 'zero_padding2d_1' }).apply(x) as L;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }).apply(x) as L;
  const block = (x: L, stage: number, blocks: number): L => {
    for (let b = 1; b <= blocks; b++) {
      const p = `conv${stage}_block${b}`;
      let y = bn(x, `${p}_0_bn`);
      y = tf.layers.activation({ activation: 'relu', name: `${p}_0_relu` }).apply(y) as L;
      y = tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: `${p}_1_conv` }).apply(y) as L;
      y = bn(y, `${p}_1_bn`);
      y = tf.layers.activation({ activation: 'relu', name: `${p}_1_relu` }).apply(y) as L;
      y = tf.layers
        .conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: `${p}_2_conv` })
        .apply(y) as L;
      x = tf.layers.concatenate({ axis: -1, name: `${p}_concat` }).apply([x, y]) as L;
    }
    return x;
  };
  const transition = (x: L, name: string, channels: number): L => {
    let y = bn(x, `${name}_bn`);
    y = tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as L;
    y = tf.layers.conv2d({ filters: channels, kernelSize: 1, useBias: false, name: `${name}_conv` }).apply(y) as L;
    return tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }).apply(y) as L;
  };
  x = block(x, 2, 2);
  x = transition(x, 'pool2', 8);
  x = block(x, 3, 2);
  x = bn(x, 'bn');
  x = tf.layers.activation({ activation: 'relu', name: 'relu' }).apply(x) as L;
  const backbone = tf.model({ inputs: input, outputs: x, name: 'densenet201' });

  const outer = tf.input({ shape: [size, size, 3], name: 'input_2' });
  let h = backbone.apply(outer) as L;
  h = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(h) as L;
  h = tf.layers.dense({ units: 12, activation: 'relu', name: 'dense' }).apply(h) as L;
  const output = tf.layers.dense({ units: classes, activation: 'softmax', name: 'dense_1' }).apply(h) as L;
  return seedWeights(tf.model({ inputs: outer, outputs: output, name: 'tiny_densenet' }));
}

/**
 * Deterministic weights, so a test never depends on a lucky draw (a random model can, say, give
 * an all-zero Grad-CAM map): seeded Glorot-uniform kernels, and batch-norm statistics that are
 * far from the identity so that a mis-mapped parameter shows. Biases keep their initial values.
 */
export function seedWeights(model: tf.LayersModel, seed = 1): tf.LayersModel {
  let s = seed;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const batchNorm: Record<string, () => number> = {
    gamma: () => 0.5 + rand(),
    beta: () => rand() - 0.5,
    moving_mean: () => (rand() - 0.5) * 0.4,
    moving_variance: () => 0.5 + rand(),
  };
  const visit = (layer: tf.layers.Layer) => {
    if (layer instanceof tf.LayersModel) return layer.layers.forEach(visit);
    const isBatchNorm = layer.getClassName() === 'BatchNormalization';
    const values = layer.weights.map((w) => {
      const kind = (w.name.split('/').pop() as string).replace(/_\d+$/, ''); // tfjs suffixes repeated names
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      if (isBatchNorm) {
        if (!batchNorm[kind]) throw new Error(`unexpected batch-norm weight ${w.name}`);
        return tf.tensor(Float32Array.from({ length: size }, batchNorm[kind]), shape);
      }
      if (!kind.endsWith('kernel')) return w.read().clone();
      const receptiveField = shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const limit = Math.sqrt(6 / (receptiveField * (shape[shape.length - 2] + shape[shape.length - 1])));
      return tf.tensor(
        Float32Array.from({ length: size }, () => (2 * rand() - 1) * limit),
        shape,
      );
    });
    if (values.length > 0) layer.setWeights(values);
    values.forEach((t) => t.dispose());
  };
  model.layers.forEach(visit);
  return model;
}

/**
 * A radiograph from ../shared scaled to `size` x `size` x 3 in [-1, 1] when the data is
 * present, else a generated image with edges and gradients; NHWC.
 */
export async function testImage(size: number, index = 0): Promise<Float32Array> {
  const dir = sharedPath('data/unifesp/images');
  let grey: Uint8Array;
  if (existsSync(dir)) {
    const file = readdirSync(dir).sort()[index];
    grey = await sharp(path.join(dir, file)).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer();
  } else {
    grey = Uint8Array.from({ length: size * size }, (_, i) => {
      const y = Math.floor(i / size);
      const x = i % size;
      const disc = (x - size / 2) ** 2 + (y - size / 2.5) ** 2 < (size / 4) ** 2 ? 90 : 0;
      return Math.min(255, ((x * 3 + y * 2 + index * 37) % 160) + disc);
    });
  }
  const out = new Float32Array(size * size * 3);
  grey.forEach((v, i) => out.fill(v / 127.5 - 1, i * 3, i * 3 + 3));
  return out;
}

/**
 * Independent Grad-CAM++ oracle on tfjs autodiff: runs the model's flattened graph eagerly,
 * replaces `layer`'s output by a differentiable tensor A, and differentiates the class logit
 * (the final softmax skipped). Map normalised by its maximum, as the ONNX graph does.
 */
export function gradCamOracle(
  model: tf.LayersModel,
  image: Float32Array,
  layer: string,
  classIndex: number,
): { map: Float32Array; shape: number[] } {
  const [, h, w, c] = model.inputs[0].shape as number[];
  return tf.tidy(() => {
    const x = tf.tensor4d(image, [1, h, w, c]);
    const cache = new Map<number, tf.Tensor>();
    const A = run(model, [x], layer, cache).target as tf.Tensor;
    const logit = (a: tf.Tensor) => run(model, [x], layer, cache, a).output.slice([0, classIndex], [1, 1]).sum();
    const g = tf.grad(logit)(A);
    const g2 = g.square();
    const g3 = g2.mul(g);
    const sumA = A.sum([1, 2], true);
    const denominator = g2.mul(2).add(sumA.mul(g3));
    const alpha = tf.where(
      denominator.equal(0),
      tf.zerosLike(g2),
      g2.div(tf.where(denominator.equal(0), tf.onesLike(denominator), denominator)),
    );
    const weights = alpha.mul(g.relu()).sum([1, 2], true);
    const cam = weights.mul(A).sum(3).relu();
    const max = cam.max();
    const map = max.greater(0).dataSync()[0] ? cam.div(max) : cam;
    return { map: map.dataSync() as Float32Array, shape: map.shape.slice(1) };
  });
}

/** Runs the flattened graph eagerly; with `replacement`, only what depends on `layer` is recomputed (the rest comes from `cache`). */
function run(
  model: any,
  inputs: tf.Tensor[],
  layer: string,
  cache: Map<number, tf.Tensor>,
  replacement?: tf.Tensor,
): { output: tf.Tensor; target?: tf.Tensor } {
  let target: tf.Tensor | undefined;
  const dependent = new Set<number>();
  const walk = (m: any, ins: tf.Tensor[], outermost: boolean, inputIds: number[]): tf.Tensor[] => {
    const values = new Map<number, tf.Tensor>();
    m.inputs.forEach((t: any, i: number) => {
      values.set(t.id, ins[i]);
      if (inputIds[i] !== undefined && dependent.has(inputIds[i])) dependent.add(t.id);
    });
    const depths = Object.keys(m.nodesByDepth)
      .map(Number)
      .sort((a, b) => b - a);
    for (const depth of depths) {
      for (const node of m.nodesByDepth[depth]) {
        const l = node.outboundLayer;
        if (l.getClassName() === 'InputLayer') continue;
        const ids: number[] = node.inputTensors.map((t: any) => t.id);
        const args = ids.map((id) => values.get(id) as tf.Tensor);
        const outId: number = node.outputTensors[0].id;
        const depends = ids.some((id) => dependent.has(id));
        const isLast = outermost && outId === m.outputs[0].id;
        let out: tf.Tensor;
        if (l.nodesByDepth) {
          out = walk(l, args, false, ids)[0];
          if (dependent.has(l.outputs[0].id)) dependent.add(outId);
        } else if (replacement && !depends && l.name !== layer && cache.has(outId)) out = cache.get(outId) as tf.Tensor;
        else if (isLast && l.getConfig().activation === 'softmax')
          out = tf.matMul(args[0], l.getWeights()[0]).add(l.getWeights()[1]);
        else out = l.apply(args.length === 1 ? args[0] : args) as tf.Tensor;
        if (l.name === layer) {
          target = out;
          if (replacement) out = replacement;
        }
        if (replacement && (depends || l.name === layer)) dependent.add(outId);
        if (!replacement) cache.set(outId, out);
        values.set(outId, out);
      }
    }
    return m.outputs.map((t: any) => values.get(t.id) as tf.Tensor);
  };
  return { output: walk(model, inputs, true, [])[0], target };
}
