/** @jest-environment <rootDir>/testing/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import {
  createOnnxEngine,
  createTfjsEngine,
  loadModelPackage,
  MODEL_CARD_JSON,
  type ModelCard,
  oodScore,
  readModelCard,
  saveModelPackage,
} from '@xray/ml';
import { exportOnnxPackage } from './package-export';
import { testImage, tinyMobileNet } from '../../testing/onnx/models';
import { attachOodModel, fitOodStatistics, thresholdForShare } from '../training/ood-fit';

const silent = { info: () => undefined };
const SIZE = 64;
const LABELS = ['Abdomen', 'Ankle', 'Chest', 'Elbow', 'Foot'];
const FEATURE_LAYER = 'global_average_pooling2d';

/** Test images: the fixture's smooth images with small seeded changes, so the features vary around a centre. */
async function images(count: number, offset: number): Promise<Float32Array[]> {
  const base = await Promise.all([0, 1, 2].map((i) => testImage(SIZE, i)));
  return Array.from({ length: count }, (_, n) =>
    base[n % 3].map((v, j) =>
      Math.max(-1, Math.min(1, v * (0.9 + 0.02 * ((n + offset) % 10)) + 0.01 * Math.sin(j + n + offset))),
    ),
  );
}

describe('out-of-distribution warning in both engines', () => {
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-ood-'));
    const model = tinyMobileNet(SIZE, LABELS.length, 3);
    const saved = await saveModelPackage(dir, model, {
      name: 'tiny-mobilenet',
      version: '0.0.0-test',
      architecture: 'tiny MobileNetV2-style (seeded random weights, tests only)',
      preprocessing: { width: SIZE, height: SIZE, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
      labels: LABELS,
      gradcam: { targetLayer: 'out_relu' },
      bands: DEFAULT_BAND_THRESHOLDS,
      temperature: 1.3,
    });
    // Fit on the pooled features of 60 "training" images, calibrate on 30 "validation" images.
    const extractor = tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output });
    const featuresOf = (inputs: Float32Array[]) =>
      tf.tidy(() => {
        const batch = tf.stack(inputs.map((x) => tf.tensor3d(x, [SIZE, SIZE, 3])));
        return (extractor.predict(batch) as tf.Tensor2D).arraySync().map((row) => Float32Array.from(row));
      });
    const train = featuresOf(await images(60, 0));
    const statistics = fitOodStatistics(
      train,
      train.map((_, n) => [n % 3]),
      { components: 4, shrinkage: 0.1 },
    );
    const validation = featuresOf(await images(30, 100)).map((f) => oodScore({ ...statistics, threshold: 0 }, f));
    const threshold = thresholdForShare(validation, 0);
    model.dispose();
    await attachOodModel(dir, saved, {
      model: { ...statistics, threshold },
      card: {
        featureLayer: FEATURE_LAYER,
        dimensions: statistics.dimensions,
        classes: statistics.classes,
        components: statistics.variances.length,
        residualVariance: statistics.residualVariance,
        threshold,
        fit: {
          trainImages: 60,
          shrinkage: 0.1,
          targetValidationShare: 0,
          validationImages: 30,
          validationShareAbove: 0,
        },
      },
    });
    await exportOnnxPackage(dir);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the same score and warning from tfjs and ONNX Runtime; typical inputs pass, noise is flagged', async () => {
    const tfjs = await createTfjsEngine(dir, { backend: 'cpu', logger: silent });
    const onnx = await createOnnxEngine(dir, { logger: silent });
    try {
      const random = Array.from({ length: 3 }, (_, n) =>
        Float32Array.from({ length: SIZE * SIZE * 3 }, (_, j) => Math.sin(j * (n + 1) * 12.9898) * 0.999),
      );
      const inputs = [...(await images(3, 103)), ...random];
      const [a, b] = await Promise.all([tfjs.classify(inputs), onnx.classify(inputs)]);
      a.forEach((result, i) => {
        expect(result.ood).toBeDefined();
        // This random-weight net has near-constant features (tiny variances), which magnify float32 rounding;
        // on the shipped model the two engines agree to 1e-6.
        expect(Math.abs((b[i].ood?.score ?? NaN) - (result.ood?.score ?? NaN))).toBeLessThan(
          0.05 * (result.ood?.score ?? 0) + 5e-3,
        );
        expect(b[i].ood?.outOfDistribution).toBe(result.ood?.outOfDistribution);
      });
      expect(a.slice(0, 3).every((r) => r.ood?.outOfDistribution === false)).toBe(true);
      expect(a.slice(3).every((r) => r.ood?.outOfDistribution === true)).toBe(true);
    } finally {
      await tfjs.dispose();
      await onnx.dispose();
    }
  });

  it('scores the image alone under hflip test-time augmentation (the threshold was calibrated on such images)', async () => {
    const card: ModelCard = { ...(await readModelCard(dir)), testTimeAugmentation: 'hflip' };
    const engines = await Promise.all([
      createTfjsEngine(dir, { backend: 'cpu', logger: silent }),
      createTfjsEngine(dir, { card, backend: 'cpu', logger: silent }),
      createOnnxEngine(dir, { logger: silent }),
      createOnnxEngine(dir, { card, logger: silent }),
    ]);
    try {
      const inputs = await images(4, 103);
      const mirrors = inputs.map((x) =>
        tf.tidy(() => tf.reverse(tf.tensor3d(x, [SIZE, SIZE, 3]), 1).dataSync() as Float32Array),
      );
      for (const [plain, tta] of [engines.slice(0, 2), engines.slice(2)]) {
        const [alone, mirrored, augmented] = await Promise.all([
          plain.classify(inputs),
          plain.classify(mirrors),
          tta.classify(inputs),
        ]);
        augmented.forEach((result, i) => {
          expect(result.probabilities).not.toEqual(alone[i].probabilities); // the mirror did count for the class
          const score = alone[i].ood?.score ?? NaN;
          expect(Math.abs((result.ood?.score ?? NaN) - score)).toBeLessThan(1e-4 * score);
          // The mirror's score is another (by over 1 %), so the check above tells the two apart.
          expect(Math.abs((mirrored[i].ood?.score ?? NaN) - score)).toBeGreaterThan(1e-2 * score);
        });
      }
    } finally {
      await Promise.all(engines.map((engine) => engine.dispose()));
    }
  });

  it('refuses an ood.bin that does not match the sha256 in the card', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-ood-bad-'));
    try {
      fs.cpSync(dir, copy, { recursive: true });
      const bytes = fs.readFileSync(path.join(copy, 'ood.bin'));
      bytes[0] ^= 1;
      fs.writeFileSync(path.join(copy, 'ood.bin'), bytes);
      await expect(createTfjsEngine(copy, { backend: 'cpu', logger: silent })).rejects.toMatchObject({
        code: 'MODEL_INVALID',
        message: expect.stringContaining('ood.bin sha256'),
      });
      await expect(createOnnxEngine(copy, { logger: silent })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses an ONNX graph exported before the OOD model was fitted (no features output)', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-ood-old-'));
    try {
      fs.cpSync(dir, copy, { recursive: true });
      const card = JSON.parse(fs.readFileSync(path.join(copy, MODEL_CARD_JSON), 'utf8'));
      const withoutOod = { ...card };
      delete withoutOod.ood;
      fs.writeFileSync(path.join(copy, MODEL_CARD_JSON), JSON.stringify(withoutOod));
      await exportOnnxPackage(copy);
      fs.writeFileSync(path.join(copy, MODEL_CARD_JSON), JSON.stringify(card));
      await expect(createOnnxEngine(copy, { logger: silent })).rejects.toMatchObject({
        code: 'MODEL_INVALID',
        message: expect.stringContaining('xray export-onnx'),
      });
      const pkg = await loadModelPackage(copy);
      pkg.model.dispose();
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
