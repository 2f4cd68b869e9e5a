/** @jest-environment <rootDir>/testing/ort-environment.js */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { exportClassifier } from './export-model';
import { forwardFlops } from './flops';
import { verifyClassifier } from './verify';
import { seedWeights, testImage, tinyDenseNet, tinyMobileNet } from '../../testing/onnx/models';

/** Largest difference of the probabilities, and of the logits centred per image against tfjs' log-probabilities. */
async function compare(model: tf.LayersModel, size: number): Promise<{ probabilities: number; logits: number }> {
  const images = [await testImage(size, 0), await testImage(size, 1)];
  const batch = new Float32Array(images.length * images[0].length);
  images.forEach((img, i) => batch.set(img, i * img.length));
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(batch, [2, size, size, 3])) as tf.Tensor).dataSync());
  const session = await ort.InferenceSession.create(exportClassifier(model));
  const result = await session.run({ input: new ort.Tensor('float32', batch, [2, size, size, 3]) });
  const probabilities = result.probabilities.data as Float32Array;
  const logits = result.logits.data as Float32Array;
  await session.release();
  expect(probabilities.length).toBe(expected.length);
  const classes = expected.length / 2;
  const centred = (v: ArrayLike<number>, i: number) => {
    const row = Array.from(v).slice(Math.floor(i / classes) * classes, Math.floor(i / classes + 1) * classes);
    return v[i] - row.reduce((a, b) => a + b, 0) / classes;
  };
  const logExpected = expected.map(Math.log);
  return {
    probabilities: Math.max(...Array.from(probabilities, (v, i) => Math.abs(v - expected[i]))),
    logits: Math.max(...Array.from(logits, (_, i) => Math.abs(centred(logits, i) - centred(logExpected, i)))),
  };
}

describe('ONNX classifier export', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it('matches the tfjs MobileNetV2-style model within 1e-4', async () => {
    const diff = await compare(tinyMobileNet(64), 64);
    expect(diff.probabilities).toBeLessThan(1e-4);
    expect(diff.logits).toBeLessThan(1e-4);
  });

  it('matches the tfjs DenseNet-style model (nested backbone) within 1e-4', async () => {
    const diff = await compare(tinyDenseNet(64), 64);
    expect(diff.probabilities).toBeLessThan(1e-4);
    expect(diff.logits).toBeLessThan(1e-4);
  });

  it('converts batch norms without gamma or beta (InceptionV3 style)', async () => {
    const input = tf.input({ shape: [32, 32, 3] });
    let x = tf.layers
      .conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same' })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ scale: false }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ center: false }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
    const model = seedWeights(
      tf.model({
        inputs: input,
        outputs: tf.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tf.SymbolicTensor,
      }),
    );
    const diff = await compare(model, 32);
    expect(diff.probabilities).toBeLessThan(1e-4);
    expect(diff.logits).toBeLessThan(1e-4);
  });

  it('verifies an export against its model and refuses a graph that differs', async () => {
    const model = tinyMobileNet(32);
    expect(await verifyClassifier(model, exportClassifier(model))).toBeLessThan(1e-5);
    const other = tinyMobileNet(32, 5, 2);
    await expect(verifyClassifier(other, exportClassifier(model))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('differs from the tfjs model'),
    });
  });

  it('names an unsupported layer and its class', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const up = tf.layers.upSampling2d({ size: [2, 2], name: 'decoder_up' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(up) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(pooled) as tf.SymbolicTensor,
    });
    expect(() => exportClassifier(model)).toThrow(/Layer 'decoder_up' \(UpSampling2D\) is not supported/);
  });

  it('counts the forward FLOPs of convolutions and dense layers', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(pooled) as tf.SymbolicTensor,
    });
    expect(forwardFlops(model)).toBe(2 * 4 * 3 * 9 * 64 + 2 * 4 * 2);
  });
});
