/** @jest-environment <rootDir>/testing/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import {
  createEngine,
  createOnnxEngine,
  createTfjsEngine,
  type InferenceEngine,
  MODEL_CARD_JSON,
  type ModelCard,
  saveModelPackage,
} from '@xray/ml';
import { exportOnnxPackage } from './package-export';
import { countingSource, writeTinyTestModelPackage } from '@xray/ml/testing';
import { testImage, tinyMobileNet } from '../../testing/onnx/models';

const silent = { info: () => undefined };
const SIZE = 64;
const LABELS = ['Abdomen', 'Ankle', 'Chest', 'Elbow', 'Foot'];

async function writePackage(dir: string, seed = 1): Promise<void> {
  const model = tinyMobileNet(SIZE, LABELS.length, seed);
  await saveModelPackage(dir, model, {
    name: 'tiny-mobilenet',
    version: '0.0.0-test',
    architecture: 'tiny MobileNetV2-style (seeded random weights, tests only)',
    preprocessing: { width: SIZE, height: SIZE, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
    labels: LABELS,
    gradcam: { targetLayer: 'out_relu', animationLayers: ['block_1_depthwise_relu', 'out_relu'] },
    bands: DEFAULT_BAND_THRESHOLDS,
    temperature: 1.7,
  });
  model.dispose();
}

/** The image mirrored left-right by tfjs itself (independent of the engines' mirroring). */
function mirrored(image: Float32Array): Float32Array {
  const size = Math.sqrt(image.length / 3);
  return tf.tidy(() => tf.reverse(tf.tensor3d(image, [size, size, 3]), 1).dataSync() as Float32Array);
}

function softmax(logits: number[]): number[] {
  const exp = logits.map((z) => Math.exp(z - Math.max(...logits)));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
}

describe('ONNX Runtime engine', () => {
  let dir: string;
  let onnx: InferenceEngine;
  let tfjs: InferenceEngine;
  let images: Float32Array[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-onnx-'));
    await writePackage(dir);
    const steps: string[] = [];
    const card = await exportOnnxPackage(dir, (s) => steps.push(`${s.step}/${s.total} ${s.file}`));
    expect(card.onnx).toEqual({ model: 'model.onnx', gradcam: 'gradcam.onnx' });
    expect(steps).toEqual(['1/3 model.onnx', '2/3 gradcam.onnx', '3/3 gradcam.block_1_depthwise_relu.onnx']);
    onnx = await createOnnxEngine(dir, { logger: silent });
    tfjs = await createTfjsEngine(dir, { backend: 'cpu', logger: silent });
    images = await Promise.all([0, 1, 2].map((i) => testImage(SIZE, i)));
  });

  afterAll(async () => {
    await onnx?.dispose();
    await tfjs?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records the graphs in the card on disk', () => {
    const card = JSON.parse(fs.readFileSync(path.join(dir, MODEL_CARD_JSON), 'utf8')) as ModelCard;
    expect(card.onnx).toEqual({ model: 'model.onnx', gradcam: 'gradcam.onnx' });
    expect(onnx.info).toMatchObject({
      engine: 'onnx',
      backend: 'cpu',
      threads: os.availableParallelism(),
      modelSha256: card.weightsSha256,
    });
  });

  it('classifies a batch like the tfjs engine, temperature and bands included', async () => {
    const [a, b] = await Promise.all([onnx.classify(images), tfjs.classify(images)]);
    expect(a).toHaveLength(3);
    a.forEach((result, i) => {
      expect(maxDiff(result.probabilities, b[i].probabilities)).toBeLessThan(1e-4);
      expect(result.label).toBe(b[i].label);
      expect(result.band).toBe(b[i].band);
      expect(result.top5.map((t) => t.label)).toEqual(b[i].top5.map((t) => t.label));
    });
  });

  it.each([undefined, 'block_1_depthwise_relu'])('explains like the tfjs engine at layer %s', async (layer) => {
    for (const classIndex of [undefined, 3]) {
      const [a, b] = await Promise.all([
        onnx.explain(images[1], { layer, classIndex }),
        tfjs.explain(images[1], { layer, classIndex }),
      ]);
      expect(a.layer).toBe(b.layer);
      expect(a.classIndex).toBe(b.classIndex);
      expect(a.mapShape).toEqual(b.mapShape);
      expect(maxDiff(a.map, b.map)).toBeLessThan(1e-5);
    }
  });

  it('rejects bad input, unknown layers and class indices with clear errors', async () => {
    await expect(onnx.classify([new Float32Array(10)])).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('64x64x3'),
    });
    await expect(onnx.explain(images[0], { layer: 'Conv1_relu' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining("'Conv1_relu'"),
    });
    await expect(onnx.explain(images[0], { classIndex: 5 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('reads the model card once per engine open', async () => {
    const { source, reads } = countingSource(dir);
    const opened = await createEngine(source, { logger: silent, warmUp: false });
    await opened.dispose();
    expect(opened.info.engine).toBe('onnx');
    expect(reads.filter((key) => key === MODEL_CARD_JSON)).toEqual([MODEL_CARD_JSON]);
  });

  it('chooses ONNX when the package has it (auto, the default), unless asked for tfjs', async () => {
    const auto = await createEngine(dir, { logger: silent, warmUp: false });
    expect(auto.info.engine).toBe('onnx');
    await auto.dispose();
    const tfjs = await createEngine(dir, { engine: 'tfjs', backend: 'cpu', logger: silent, warmUp: false });
    expect(tfjs.info.engine).toBe('tfjs');
    await tfjs.dispose();
  });

  it('falls back to the CPU when the CUDA provider cannot start, and says so', async () => {
    const logged: object[] = [];
    const engine = await createOnnxEngine(dir, {
      providers: ['cuda', 'cpu'],
      warmUp: false,
      logger: { info: (fields) => logged.push(fields) },
    });
    try {
      expect(engine.info.backend).toBe('cpu');
      expect(logged).toEqual([
        expect.objectContaining({ engine: 'onnx', backend: 'cpu', providerFallback: expect.stringMatching(/^cuda: /) }),
      ]);
      expect((await engine.classify(images))[0].probabilities).toHaveLength(LABELS.length);
    } finally {
      await engine.dispose();
    }
  });

  it('refuses graphs exported from other weights', async () => {
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-onnx-stale-'));
    try {
      await writePackage(stale, 2);
      for (const file of ['model.onnx', 'gradcam.onnx']) fs.copyFileSync(path.join(dir, file), path.join(stale, file));
      const cardFile = path.join(stale, MODEL_CARD_JSON);
      const card = JSON.parse(fs.readFileSync(cardFile, 'utf8')) as ModelCard;
      fs.writeFileSync(cardFile, JSON.stringify({ ...card, onnx: { model: 'model.onnx', gradcam: 'gradcam.onnx' } }));
      await expect(createOnnxEngine(stale, { logger: silent })).rejects.toMatchObject({
        code: 'MODEL_INVALID',
        message: expect.stringContaining('export-onnx'),
      });
      const tfjsOnly = await createEngine(dir, { engine: 'tfjs', backend: 'cpu', logger: silent, warmUp: false });
      expect(tfjsOnly.info.engine).toBe('tfjs');
      await tfjsOnly.dispose();
    } finally {
      fs.rmSync(stale, { recursive: true, force: true });
    }
  });
});

describe('hflip test-time augmentation in both engines', () => {
  let dir: string;
  let card: ModelCard;
  let plain: InferenceEngine;
  const TEMPERATURE = 1.7;
  // The ml fixture net: this file's tiny MobileNet barely tells an image from its mirror (1e-6 apart).
  const images = [0, 1, 2].map((seed) =>
    Float32Array.from(
      { length: 32 * 32 * 3 },
      (_, j) => (Math.floor(j / 3) % 8) / 4 - 0.9 + 0.1 * Math.sin(j * (seed + 1) * 12.9898),
    ),
  );

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-onnx-tta-'));
    await writeTinyTestModelPackage(dir, { inputSize: 32, labels: LABELS });
    card = { ...(await exportOnnxPackage(dir)), temperature: TEMPERATURE };
    plain = await createOnnxEngine(dir, { card, logger: silent });
  });

  afterAll(async () => {
    await plain?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives softmax of the mean logits of the image and its mirror over T, the same in ONNX Runtime and tfjs', async () => {
    const tta: ModelCard = { ...card, testTimeAugmentation: 'hflip' };
    // maxBatch 1 and 3 split an image from its mirror on the way: the result must not change.
    const engines = await Promise.all([
      createOnnxEngine(dir, { card: tta, logger: silent }),
      createTfjsEngine(dir, { card: tta, backend: 'cpu', logger: silent }),
      createOnnxEngine(dir, { card: tta, maxBatch: 1, logger: silent }),
      createOnnxEngine(dir, { card: tta, maxBatch: 3, logger: silent }),
    ]);
    try {
      const [onnx, tfjs, ...split] = await Promise.all(engines.map((engine) => engine.classify(images)));
      // The plain engine gives log p = z / T up to a per-row constant, for each image and for its mirror.
      const alone = await plain.classify(images);
      const mirror = await plain.classify(images.map(mirrored));
      onnx.forEach((result, i) => {
        const expected = softmax(
          alone[i].probabilities.map((p, k) => (Math.log(p) + Math.log(mirror[i].probabilities[k])) / 2),
        );
        expect(maxDiff(result.probabilities, expected)).toBeLessThan(1e-6);
        expect(maxDiff(result.probabilities, alone[i].probabilities)).toBeGreaterThan(1e-3);
        expect(maxDiff(tfjs[i].probabilities, result.probabilities)).toBeLessThan(1e-5);
        for (const other of split) expect(maxDiff(other[i].probabilities, result.probabilities)).toBeLessThan(1e-6);
      });
    } finally {
      await Promise.all(engines.map((engine) => engine.dispose()));
    }
  });

  it('refuses a card with an unknown test-time augmentation', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-onnx-vflip-'));
    try {
      fs.cpSync(dir, copy, { recursive: true });
      const cardFile = path.join(copy, MODEL_CARD_JSON);
      const onDisk = JSON.parse(fs.readFileSync(cardFile, 'utf8')) as ModelCard;
      fs.writeFileSync(cardFile, JSON.stringify({ ...onDisk, testTimeAugmentation: 'vflip' }));
      await expect(createOnnxEngine(copy, { logger: silent })).rejects.toMatchObject({
        code: 'MODEL_INVALID',
        message: expect.stringContaining('"testTimeAugmentation" must be one of hflip'),
      });
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
