import * as tf from '@tensorflow/tfjs';
import { initTfjsBackend } from '../tfjs/backend';
import { camFromGradients, gradCamPlusPlus } from './gradcam-plus-plus';
import { splitModel } from './split-model';

type Sym = tf.SymbolicTensor;
const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

/** Grad-CAM++ in plain TypeScript (float64) from A and g given as [H][W][K] arrays. */
function referenceCam(a: number[][][], g: number[][][]): number[] {
  const [h, w, k] = [a.length, a[0].length, a[0][0].length];
  const weights = Array.from({ length: k }, (_, c) => {
    let sumA = 0;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) sumA += a[i][j][c];
    let total = 0;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const gij = g[i][j][c];
        const denominator = 2 * gij ** 2 + sumA * gij ** 3;
        const alpha = denominator !== 0 ? gij ** 2 / denominator : 0;
        total += alpha * Math.max(gij, 0);
      }
    }
    return total;
  });
  const map: number[] = [];
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      map.push(
        Math.max(
          0,
          weights.reduce((s, wc, c) => s + wc * a[i][j][c], 0),
        ),
      );
  const max = Math.max(...map);
  return map.map((v) => (max > 0 ? v / max : 0));
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...expected.map((e, i) => Math.abs(e - actual[i])));
  expect(worst).toBeLessThan(tolerance);
}

describe.each(['cpu', 'wasm'] as const)('Grad-CAM++ on %s', (backend) => {
  beforeAll(async () => {
    await initTfjsBackend({ backend });
  });

  it('matches finite differences through depthwise, batch-norm, add, concat, padding and pooling', async () => {
    // A smooth tail (tanh, sigmoid, average pooling) so that central differences are exact to O(eps^2).
    const input = tf.input({ shape: [12, 12, 3] });
    const target = tf.layers
      .conv2d({
        name: 'target',
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: seeded(1),
        biasInitializer: 'ones',
      })
      .apply(input) as Sym;
    const skip = tf.layers
      .conv2d({ name: 'skip', filters: 2, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seeded(2) })
      .apply(input) as Sym;
    let b1 = tf.layers
      .depthwiseConv2d({
        name: 'dw',
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        depthwiseInitializer: seeded(3),
        biasInitializer: 'zeros',
      })
      .apply(target) as Sym;
    b1 = tf.layers
      .batchNormalization({ name: 'dw_bn', gammaInitializer: seeded(4), movingVarianceInitializer: 'ones' })
      .apply(b1) as Sym;
    b1 = tf.layers.activation({ name: 'dw_tanh', activation: 'tanh' }).apply(b1) as Sym;
    const b2 = tf.layers
      .conv2d({
        name: 'proj',
        filters: 4,
        kernelSize: 1,
        strides: 2,
        activation: 'sigmoid',
        kernelInitializer: seeded(5),
      })
      .apply(target) as Sym;
    let x = tf.layers.add({ name: 'add' }).apply([b1, b2]) as Sym;
    x = tf.layers.concatenate({ name: 'cat' }).apply([x, skip]) as Sym;
    x = tf.layers
      .zeroPadding2d({
        name: 'pad',
        padding: [
          [1, 0],
          [0, 1],
        ],
      })
      .apply(x) as Sym;
    x = tf.layers.averagePooling2d({ name: 'pool', poolSize: 2, strides: 1 }).apply(x) as Sym;
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
    x = tf.layers.dense({ name: 'logits', units: 5, kernelInitializer: seeded(6) }).apply(x) as Sym;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.activation({ name: 'softmax', activation: 'softmax' }).apply(x) as Sym,
    });
    const image = tf.randomUniform([1, 12, 12, 3], -1, 1, 'float32', 11) as tf.Tensor4D;
    const split = splitModel(model, 'target');
    const cam = gradCamPlusPlus(split, image, [2]);

    // Independent gradient: the network's own layers re-applied to A (tfjs-layers code path),
    // differentiated by central differences.
    const aInput = tf.input({ shape: [12, 12, 4] });
    const skipInput = tf.input({ shape: [6, 6, 2] });
    const l = (name: string) => model.getLayer(name);
    const t1 = l('dw_tanh').apply(l('dw_bn').apply(l('dw').apply(aInput))) as Sym;
    let y = l('add').apply([t1, l('proj').apply(aInput) as Sym]) as Sym;
    y = l('logits').apply(l('gap').apply(l('pool').apply(l('pad').apply(l('cat').apply([y, skipInput]))))) as Sym;
    const tailModel = tf.model({ inputs: [aInput, skipInput], outputs: y });
    const a = tf.model({ inputs: input, outputs: target }).predict(image) as tf.Tensor4D;
    const s = tf.model({ inputs: input, outputs: skip }).predict(image) as tf.Tensor4D;
    const aValues = await a.data();
    const eps = 1e-2;
    const n = aValues.length;
    const perturbed = new Float32Array(2 * n * n);
    for (let e = 0; e < n; e++) {
      perturbed.set(aValues, 2 * e * n);
      perturbed.set(aValues, (2 * e + 1) * n);
      perturbed[2 * e * n + e] += eps;
      perturbed[(2 * e + 1) * n + e] -= eps;
    }
    const logits = tailModel.predict([
      tf.tensor4d(perturbed, [2 * n, 12, 12, 4]),
      tf.tile(s, [2 * n, 1, 1, 1]),
    ]) as tf.Tensor2D;
    const l2 = (await logits.array()) as number[][];
    const g = Array.from({ length: n }, (_, e) => (l2[2 * e][2] - l2[2 * e + 1][2]) / (2 * eps));
    const to3d = (flat: ArrayLike<number>) =>
      Array.from({ length: 12 }, (_, i) =>
        Array.from({ length: 12 }, (_, j) => Array.from({ length: 4 }, (_, c) => flat[(i * 12 + j) * 4 + c])),
      );

    expect(cam.classIndices).toEqual([2]);
    expectClose(await cam.maps.data(), referenceCam(to3d(aValues), to3d(g)), 2e-3);
    split.dispose();
    tf.dispose([image, cam.maps, cam.logits, a, s, logits]);
    model.dispose();
  }, 60_000);

  it('equals the closed form for target -> GAP -> Dense (g constant over positions)', async () => {
    const input = tf.input({ shape: [10, 10, 3] });
    const target = tf.layers
      .conv2d({
        name: 'target',
        filters: 6,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: seeded(7),
        biasInitializer: 'ones',
      })
      .apply(input) as Sym;
    const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(target) as Sym;
    const dense = tf.layers.dense({ name: 'dense', units: 4, activation: 'softmax', kernelInitializer: seeded(8) });
    const model = tf.model({ inputs: input, outputs: dense.apply(gap) as Sym });
    const image = tf.randomUniform([2, 10, 10, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    const split = splitModel(model, 'target');
    const cam = gradCamPlusPlus(split, image);
    const a = (await (
      tf.model({ inputs: input, outputs: target }).predict(image) as tf.Tensor
    ).array()) as number[][][][];
    const kernel = (await dense.getWeights()[0].array()) as number[][];
    const maps = await cam.maps.data();
    // The predicted class: softmax is monotonic, so it is the top logit.
    const probabilities = (await (model.predict(image) as tf.Tensor).array()) as number[][];
    for (let b = 0; b < 2; b++) {
      const c = probabilities[b].indexOf(Math.max(...probabilities[b]));
      expect(cam.classIndices[b]).toBe(c);
      const [h, w, k] = [8, 8, 6];
      // d logit_c / dA_ijk = W[k][c] / (h w) everywhere; alpha_k = 1 / (2 + S_k g_k).
      const weights = Array.from({ length: k }, (_, ch) => {
        const g = kernel[ch][c] / (h * w);
        const sum = a[b].flat().reduce((acc, px) => acc + px[ch], 0);
        return g > 0 ? (h * w * g) / (2 + sum * g) : 0;
      });
      const map = a[b].flat().map((px) =>
        Math.max(
          0,
          px.reduce((acc, v, ch) => acc + weights[ch] * v, 0),
        ),
      );
      const max = Math.max(...map);
      expectClose(
        maps.slice(b * 64, (b + 1) * 64),
        map.map((v) => v / max),
        1e-4,
      );
    }
    split.dispose();
    tf.dispose([image, cam.maps, cam.logits]);
    model.dispose();
  });

  it('names the layer it cannot differentiate through', () => {
    const input = tf.input({ shape: [6, 6, 1] });
    const target = tf.layers.conv2d({ name: 'target', filters: 2, kernelSize: 3 }).apply(input) as Sym;
    const ln = tf.layers.layerNormalization({ name: 'ln' }).apply(target) as Sym;
    const out = tf.layers
      .dense({ units: 2, activation: 'softmax' })
      .apply(tf.layers.globalAveragePooling2d({}).apply(ln)) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    expect(() => splitModel(model, 'target')).toThrow(
      /cannot differentiate through layer "ln": layer type LayerNormalization is not supported/,
    );
    expect(() => splitModel(model, 'nope')).toThrow(/Grad-CAM layer "nope" is not a layer of the network/);
    model.dispose();
  });

  it('gives zeros, never NaN, for all-zero or constant maps and zero gradients', async () => {
    const check = async (a: tf.Tensor4D, g: tf.Tensor4D) => {
      const map = camFromGradients(a, g);
      const values = Array.from(await map.data());
      map.dispose();
      expect(values.every(Number.isFinite)).toBe(true);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThanOrEqual(1);
      return values;
    };
    const shape: [number, number, number, number] = [1, 4, 4, 3];
    const g = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    expect(await check(tf.zeros(shape), g)).toEqual(new Array(16).fill(0));
    expect(await check(tf.fill(shape, 2) as tf.Tensor4D, tf.zeros(shape))).toEqual(new Array(16).fill(0));
    // Constant A with a positive gradient: evidence is uniform, so the map is 1 everywhere.
    expect(await check(tf.fill(shape, 2) as tf.Tensor4D, tf.fill(shape, 0.5) as tf.Tensor4D)).toEqual(
      new Array(16).fill(1),
    );
    await check(tf.fill(shape, 3) as tf.Tensor4D, g);

    // A target layer that is dead (ReLU of a large negative bias) for the whole image.
    const input = tf.input({ shape: [8, 8, 1] });
    const target = tf.layers
      .conv2d({
        name: 'target',
        filters: 2,
        kernelSize: 3,
        activation: 'relu',
        biasInitializer: tf.initializers.constant({ value: -100 }),
        kernelInitializer: seeded(9),
      })
      .apply(input) as Sym;
    const out = tf.layers
      .dense({ units: 3, activation: 'softmax' })
      .apply(tf.layers.globalAveragePooling2d({}).apply(target)) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    const split = splitModel(model, 'target');
    const cam = gradCamPlusPlus(split, tf.zeros([1, 8, 8, 1]));
    expect(Array.from(await cam.maps.data())).toEqual(new Array(36).fill(0));
    split.dispose();
    model.dispose();
  });
});
