/** @jest-environment <rootDir>/testing/ort-environment.js */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { exportGradCam } from './export-gradcam';
import { gradCamOracle, seedWeights, testImage, tinyDenseNet, tinyMobileNet } from '../../testing/onnx/models';

async function onnxGradCam(model: tf.LayersModel, layer: string, images: Float32Array[], classIndex: number[]) {
  const [, h, w, c] = model.inputs[0].shape as number[];
  const batch = new Float32Array(images.length * h * w * c);
  images.forEach((img, i) => batch.set(img, i * img.length));
  const session = await ort.InferenceSession.create(exportGradCam(model, layer));
  const result = await session.run({
    input: new ort.Tensor('float32', batch, [images.length, h, w, c]),
    class_index: new ort.Tensor('int64', BigInt64Array.from(classIndex.map(BigInt)), [images.length]),
  });
  await session.release();
  return {
    map: result.map.data as Float32Array,
    dims: result.map.dims,
    classIndex: Array.from(result.explained_class.data as BigInt64Array, Number),
  };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
}

describe('ONNX Grad-CAM++ graph', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it.each([
    ['MobileNetV2-style', 'out_relu', () => tinyMobileNet(64)],
    ['MobileNetV2-style, through residual blocks', 'block_1_depthwise_relu', () => tinyMobileNet(64)],
    ['DenseNet-style, last activation', 'relu', () => tinyDenseNet(64)],
    ['DenseNet-style, through dense blocks and a transition', 'conv2_block1_concat', () => tinyDenseNet(64)],
    ['DenseNet-style, through the max pool', 'conv1/relu', () => tinyDenseNet(64)],
  ])('%s at %s matches tfjs autodiff within 1e-5', async (_name, layer, build) => {
    const model = build();
    const images = [await testImage(64, 0), await testImage(64, 2)];
    const classes = [1, 3];
    const actual = await onnxGradCam(model, layer, images, classes);
    const perImage = actual.map.length / 2;
    for (let i = 0; i < 2; i++) {
      const expected = gradCamOracle(model, images[i], layer, classes[i]);
      expect(actual.dims.slice(1)).toEqual(expected.shape);
      expect(Math.max(...expected.map)).toBeCloseTo(1, 6);
      expect(maxDiff(actual.map.subarray(i * perImage, (i + 1) * perImage), expected.map)).toBeLessThan(1e-5);
    }
    expect(actual.classIndex).toEqual(classes);
  });

  it("differentiates 'same' max pooling, strided convolutions and Flatten like tfjs", async () => {
    const input = tf.input({ shape: [30, 30, 3] });
    let x = tf.layers
      .conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'conv' })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: 'target' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'valid' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    const model = seedWeights(
      tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(x) as tf.SymbolicTensor }),
    );
    const image = Float32Array.from({ length: 30 * 30 * 3 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const actual = await onnxGradCam(model, 'target', [image], [2]);
    const expected = gradCamOracle(model, image, 'target', 2);
    expect(Math.max(...expected.map)).toBeCloseTo(1, 6);
    expect(maxDiff(actual.map, expected.map)).toBeLessThan(1e-5);
  });

  // tfjs's AvgPoolGrad divides by the full window even where its forward pass excluded the
  // padding, so the oracle here is the exact gradient written out in plain TypeScript.
  it("differentiates 'same' average pooling as TensorFlow does (padding excluded from the count)", async () => {
    const [size, channels, classes, cls] = [9, 2, 3, 1];
    const input = tf.input({ shape: [size, size, 3] });
    // Seeded conv and fixed positive class weights: random ones can zero the whole map (ReLU of g).
    const A = tf.layers
      .conv2d({
        filters: channels,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'target',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
        biasInitializer: 'ones',
      })
      .apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers
      .averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' })
      .apply(A) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({}).apply(pooled) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: classes });
    const model = tf.model({ inputs: input, outputs: dense.apply(gap) as tf.SymbolicTensor });
    dense.setWeights([tf.tensor2d([0.3, 0.8, -0.2, -0.5, 0.6, 0.4], [channels, classes]), tf.zeros([classes])]);
    const image = Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const a = tf
      .tidy(() => tf.model({ inputs: input, outputs: A }).predict(tf.tensor4d(image, [1, size, size, 3])) as tf.Tensor)
      .dataSync();
    const kernel = dense.getWeights()[0].dataSync();

    // d logit / d A[i, j, c] = sum over the windows covering (i, j) of W[c, cls] / (outputs * window size).
    const out = Math.ceil(size / 2); // 'same', stride 2, window 3 over 9 pixels: one pixel of padding each side
    const g = new Float64Array(size * size * channels);
    for (let oi = 0; oi < out; oi++)
      for (let oj = 0; oj < out; oj++) {
        const rows = [Math.max(oi * 2 - 1, 0), Math.min(oi * 2 + 1, size - 1)];
        const cols = [Math.max(oj * 2 - 1, 0), Math.min(oj * 2 + 1, size - 1)];
        const count = (rows[1] - rows[0] + 1) * (cols[1] - cols[0] + 1);
        for (let i = rows[0]; i <= rows[1]; i++)
          for (let j = cols[0]; j <= cols[1]; j++)
            for (let c = 0; c < channels; c++)
              g[(i * size + j) * channels + c] += kernel[c * classes + cls] / (out * out * count);
      }
    const weights = Array.from({ length: channels }, (_, c) => {
      let sumA = 0;
      for (let p = 0; p < size * size; p++) sumA += a[p * channels + c];
      let w = 0;
      for (let p = 0; p < size * size; p++) {
        const gv = g[p * channels + c];
        const denominator = 2 * gv * gv + sumA * gv ** 3;
        w += (denominator === 0 ? 0 : (gv * gv) / denominator) * Math.max(gv, 0);
      }
      return w;
    });
    const cam = Array.from({ length: size * size }, (_, p) =>
      Math.max(
        0,
        weights.reduce((sum, w, c) => sum + w * a[p * channels + c], 0),
      ),
    );
    const max = Math.max(...cam);
    const expected = Float32Array.from(cam, (v) => (max > 0 ? v / max : 0));

    const actual = await onnxGradCam(model, 'target', [image], [cls]);
    expect(max).toBeGreaterThan(0);
    expect(maxDiff(actual.map, expected)).toBeLessThan(1e-5);
  });

  it('explains the predicted class when class_index is negative', async () => {
    const model = tinyMobileNet(64);
    const image = await testImage(64, 0);
    const predicted = tf.tidy(
      () => (model.predict(tf.tensor4d(image, [1, 64, 64, 3])) as tf.Tensor).argMax(1).dataSync()[0],
    );
    const actual = await onnxGradCam(model, 'out_relu', [image], [-1]);
    expect(actual.classIndex).toEqual([predicted]);
    expect(maxDiff(actual.map, gradCamOracle(model, image, 'out_relu', predicted).map)).toBeLessThan(1e-5);
  });

  it('names a missing target layer', () => {
    expect(() => exportGradCam(tinyMobileNet(64), 'no_such_layer')).toThrow(/no layer named 'no_such_layer'/);
  });
});
