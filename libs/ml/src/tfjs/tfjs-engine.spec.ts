import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import { MODEL_CARD_JSON } from '../package/model-package';
import { countingSource, writeTinyTestModelPackage } from '../../testing';
import { createEngine } from '../onnx/create-engine';
import { createTfjsEngine, type TfjsEngine } from './tfjs-engine';

function randomImage(size: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: size * size * 3 }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return (state / 2 ** 31) * 2 - 1;
  });
}

/** The image mirrored left-right by tfjs itself (independent of the engine's mirroring). */
function mirrored(image: Float32Array, size: number): Float32Array {
  return tf.tidy(() => tf.reverse(tf.tensor3d(image, [size, size, 3]), 1).dataSync() as Float32Array);
}

function softmax(logits: number[]): number[] {
  const exp = logits.map((z) => Math.exp(z - Math.max(...logits)));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

describe('tfjs engine (wasm backend, threads)', () => {
  let dir: string;
  let engine: TfjsEngine;
  const logs: Array<{ fields: any; message: string }> = [];

  /** The same tiny model (same seed, same weights) in a package whose card has `changes`. */
  async function packageWithCard(name: string, changes: object): Promise<string> {
    const target = path.join(dir, name);
    await writeTinyTestModelPackage(target);
    const cardFile = path.join(target, MODEL_CARD_JSON);
    await fs.writeFile(cardFile, JSON.stringify({ ...JSON.parse(await fs.readFile(cardFile, 'utf8')), ...changes }));
    return target;
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xray-ml-engine-'));
    await writeTinyTestModelPackage(dir);
    engine = await createTfjsEngine(dir, {
      backend: 'wasm',
      logger: { info: (fields, message) => logs.push({ fields, message }) },
    });
  });

  afterAll(async () => {
    await engine?.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads the model card once per engine open', async () => {
    const { source, reads } = countingSource(dir);
    const opened = await createEngine(source, { backend: 'wasm', logger: { info: () => undefined }, warmUp: false });
    await opened.dispose();
    expect(opened.info.engine).toBe('tfjs');
    expect(reads.filter((key) => key === MODEL_CARD_JSON)).toEqual([MODEL_CARD_JSON]);
  });

  it('logs backend, threads and model sha at start', () => {
    expect(logs).toHaveLength(1);
    expect(logs[0].fields).toMatchObject({
      engine: 'tfjs',
      backend: 'wasm',
      threads: os.availableParallelism(),
      modelName: 'tiny-test-model',
    });
    expect(logs[0].fields.modelSha256).toBe(engine.card.weightsSha256);
  });

  it('classifies a batch: probabilities sum to 1, top5 sorted, band from the card', async () => {
    const results = await engine.classify([randomImage(64, 1), randomImage(64, 2)]);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.probabilities).toHaveLength(22);
      expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(r.confidence).toBe(Math.max(...r.probabilities));
      expect(r.label).toBe(engine.card.labels[r.classIndex]);
      expect(r.top5.map((t) => t.probability)).toEqual([...r.top5.map((t) => t.probability)].sort((a, b) => b - a));
      expect(r.top5[0]).toEqual({ label: r.label, probability: r.confidence });
      expect(r.band).toBe(r.confidence > 0.9 ? 'green' : r.confidence >= 0.7 ? 'orange' : 'red');
    }
  });

  it('applies the card temperature (softmax(z / T))', async () => {
    const image = randomImage(64, 3);
    const [plain] = await engine.classify([image]);
    const hotDir = await packageWithCard('hot', { temperature: 2 });
    const hot = await createTfjsEngine(hotDir, { backend: 'wasm', logger: { info: () => undefined } });
    const [scaled] = await hot.classify([image]);
    await hot.dispose();
    const logits = plain.probabilities.map((p) => Math.log(p) / 2);
    const sum = logits.reduce((a, z) => a + Math.exp(z), 0);
    scaled.probabilities.forEach((p, i) => expect(p).toBeCloseTo(Math.exp(logits[i]) / sum, 5));
    expect(scaled.classIndex).toBe(plain.classIndex);
  });

  it('with hflip test-time augmentation: softmax of the mean logits of the image and its mirror, over T', async () => {
    // Noise on a sawtooth rising slowly to the right and falling sharply: its mirror looks different to the network.
    const images = [6, 7].map((seed) =>
      randomImage(64, seed).map((v, j) => 0.2 * v + (Math.floor(j / 3) % 8) / 4 - 0.9),
    );
    const ttaDir = await packageWithCard('tta', { testTimeAugmentation: 'hflip', temperature: 1.7 });
    const tta = await createTfjsEngine(ttaDir, { backend: 'wasm', logger: { info: () => undefined } });
    const results = await tta.classify(images);
    const tensors = tf.memory().numTensors;
    await tta.classify(images);
    expect(tf.memory().numTensors).toBe(tensors);
    await tta.dispose();
    // The plain engine (T = 1) gives log p = z up to a per-row constant, for the image and for its mirror.
    const plain = await engine.classify(images);
    const plainMirrored = await engine.classify(images.map((image) => mirrored(image, 64)));
    results.forEach((result, i) => {
      const expected = softmax(
        plain[i].probabilities.map((p, k) => (Math.log(p) + Math.log(plainMirrored[i].probabilities[k])) / 2 / 1.7),
      );
      result.probabilities.forEach((p, k) => expect(p).toBeCloseTo(expected[k], 6));
      expect(result.confidence).toBe(Math.max(...result.probabilities));
      // The image alone at the same temperature gives other probabilities (2e-3 apart for this near-uniform net).
      const alone = softmax(plain[i].probabilities.map((p) => Math.log(p) / 1.7));
      expect(Math.max(...alone.map((p, k) => Math.abs(p - result.probabilities[k])))).toBeGreaterThan(5e-4);
    });
  });

  it('refuses a card with an unknown test-time augmentation', async () => {
    const vflip = await packageWithCard('vflip', { testTimeAugmentation: 'vflip' });
    const opening = createTfjsEngine(vflip, { backend: 'wasm', logger: { info: () => undefined } });
    await expect(opening).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('"testTimeAugmentation" must be one of hflip'),
    });
  });

  it('rejects an input of the wrong size with a clear error', async () => {
    const error = await engine.classify([new Float32Array(10)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XrayError);
    expect((error as XrayError).message).toMatch(/has 10 values; the model takes 64x64x3/);
  });

  it('explains at the card target layer, a [0,1] map at its resolution', async () => {
    const cam = await engine.explain(randomImage(64, 4));
    expect(cam.layer).toBe('conv2_relu');
    expect(cam.mapShape).toEqual([16, 16]);
    expect(cam.map).toHaveLength(256);
    expect(Math.max(...cam.map)).toBeLessThanOrEqual(1);
    expect(Math.min(...cam.map)).toBeGreaterThanOrEqual(0);
    const other = await engine.explain(randomImage(64, 4), { layer: 'conv1_relu', classIndex: 3 });
    expect(other).toMatchObject({ layer: 'conv1_relu', classIndex: 3, mapShape: [32, 32] });
  });

  it('does not leak tensors over 1,000 predictions and explanations', async () => {
    const image = randomImage(64, 5);
    await engine.classify([image]);
    await engine.explain(image);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) await engine.classify([image]);
    for (let i = 0; i < 50; i++) await engine.explain(image);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
