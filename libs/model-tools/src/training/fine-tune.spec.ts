import * as tf from '@tensorflow/tfjs';
import { initTfjsBackend } from '@xray/ml';
import { buildTinyTestModel } from '@xray/ml/testing';
import { backboneTop, fineTune, predictTop } from './fine-tune';
import { buildHead } from './head';
import { seededRandom } from './random';

describe('fine-tuning the top of a backbone (wasm)', () => {
  beforeAll(() => initTfjsBackend({ backend: 'wasm', threads: 1 }));

  it('runs the top like the backbone (frozen batch norm), trains its convolutions in place and keeps the batch-norm statistics', async () => {
    const backbone = buildTinyTestModel({ inputSize: 32, seed: 5 });
    const cut = tf.model({
      inputs: backbone.inputs,
      outputs: backbone.getLayer('conv2_relu').output as tf.SymbolicTensor,
    });
    const top = backboneTop(backbone, 'conv1', 'conv2_relu');
    expect(top.inputShape).toEqual([32, 32, 3]);
    expect(top.trainable.map((w) => w.originalName).sort()).toEqual(['conv1/kernel', 'conv2/bias', 'conv2/kernel']);

    const random = seededRandom(9);
    const images = Array.from({ length: 12 }, () => Float32Array.from({ length: 32 * 32 * 3 }, () => random() * 2 - 1));
    const x = tf.stack(images.map((image) => tf.tensor3d(image, [32, 32, 3])));
    const viaTop = tf.tidy(() => top.forward(top.extractor.predict(x) as tf.Tensor));
    const viaBackbone = cut.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(viaTop, viaBackbone))).dataSync()[0]).toBeLessThan(1e-4);
    tf.dispose([viaTop, viaBackbone]);

    const conv2Before = backbone.getLayer('conv2').getWeights()[0].dataSync().slice();
    const bnBefore = backbone
      .getLayer('conv1_bn')
      .getWeights()
      .map((w) => w.dataSync().slice());
    const head = buildHead(
      16,
      3,
      { hiddenUnits: 0, dropout: 0, learningRate: 0.01, batchSize: 4, maxEpochs: 1, patience: 1 },
      1,
    );
    const labels = images.map((_, k) => [k % 3]);
    const targets = labels.map(([k]) => Float32Array.from([0, 1, 2], (j) => (j === k ? 1 : 0)));
    const before = tf.memory().numTensors;
    const result = await fineTune(
      top,
      head,
      { activations: images, targets, weights: images.map(() => 1) },
      { activations: images, labels },
      { fromLayer: 'conv1', maxEpochs: 4, learningRate: 0.01, weightDecay: 1e-3, batchSize: 4, patience: 4 },
      1,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(result.history).toHaveLength(4);
    expect(result.history[result.history.length - 1].loss).toBeLessThan(result.history[0].loss);
    expect(result.bestEpoch).toBeGreaterThan(0);
    expect(result.history[result.bestEpoch - 1].validationLoss).toBeLessThan(result.start.validationLoss);
    // The backbone itself changed (shared layers), batch-norm statistics and scales did not.
    expect(backbone.getLayer('conv2').getWeights()[0].dataSync()).not.toEqual(conv2Before);
    backbone
      .getLayer('conv1_bn')
      .getWeights()
      .forEach((w, k) => expect(w.dataSync()).toEqual(bnBefore[k]));
    const probabilities = await predictTop(top, head, images);
    expect(probabilities).toHaveLength(12);
    expect(probabilities[0].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    top.dispose();
    x.dispose();
  }, 30_000);

  it('refuses a start layer that is not in the backbone', () => {
    const backbone = buildTinyTestModel({ inputSize: 32 });
    expect(() => backboneTop(backbone, 'block_99_expand', 'conv2_relu')).toThrow(/no layer "block_99_expand"/);
  });
});
