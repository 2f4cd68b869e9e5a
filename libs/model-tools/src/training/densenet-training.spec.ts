import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { BODY_PART_LABELS, DEFAULT_BAND_THRESHOLDS, type PreprocessingSpec } from '@xray/shared';
import { initTfjsBackend, loadModelPackage, saveModelPackage } from '@xray/ml';
import { denseNet201 } from '../architectures/densenet201';
import { loadTrainingBackbone } from './backbone';
import { DEFAULT_TRAINING, trainClassifier } from './train-model';

const SPEC: PreprocessingSpec = { width: 32, height: 32, channels: 3, normalization: 'minus1to1', resize: 'stretch' };

/** Model input for these PNGs without libs/imaging: grey pixels scaled to [-1, 1], replicated to RGB. */
async function pngToInput(bytes: Uint8Array, spec: PreprocessingSpec): Promise<Float32Array> {
  const grey = await sharp(bytes).greyscale().resize(spec.width, spec.height, { fit: 'fill' }).raw().toBuffer();
  return Float32Array.from({ length: grey.length * 3 }, (_, i) => grey[Math.floor(i / 3)] / 127.5 - 1);
}

describe('DenseNet201 (the seed architecture) as a user-supplied backbone', () => {
  let dir: string;
  beforeAll(async () => {
    await initTfjsBackend({ threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'xray-densenet-'));
    // Eight generated images, two patients per class, two classes.
    const rows = ['file,Target,PatientID'];
    for (let i = 0; i < 8; i++) {
      const target = i % 2 === 0 ? 3 : 11;
      const pixels = Uint8Array.from({ length: 32 * 32 }, (_, p) =>
        target === 3 ? (p % 32) * 8 : Math.floor(p / 32) * 8,
      );
      await sharp(pixels, { raw: { width: 32, height: 32, channels: 1 } })
        .png()
        .toFile(join(dir, `${i}.png`));
      rows.push(`${i}.png,${target},patient-${Math.floor(i / 2)}-${target}`);
    }
    await writeFile(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('cuts the seed model at `relu`, drops its head, trains a fresh head for one epoch and ships backbone + head as one model', async () => {
    // The user's model: the seed's DenseNet201 + GAP + Dense(1024) + Dense(22), in a tiny configuration
    // (random weights, 32x32 input, two conv blocks per dense block instead of 6/12/48/32: same code path and layer names).
    const seed = denseNet201({ inputSize: 32, classes: BODY_PART_LABELS.length, blocks: [2, 2, 2, 2] });
    await saveModelPackage(join(dir, 'seed-model'), seed, {
      name: 'seed-densenet201',
      version: '0.0.0-test',
      architecture: 'DenseNet201 + GAP + Dense(1024) + Dense(22)',
      preprocessing: SPEC,
      labels: [...BODY_PART_LABELS],
      gradcam: { targetLayer: 'conv5_block2_concat' },
      bands: DEFAULT_BAND_THRESHOLDS,
    });
    seed.dispose();

    const backbone = await loadTrainingBackbone(join(dir, 'seed-model'), {
      layer: 'relu',
      normalization: 'minus1to1',
      resize: 'stretch',
      name: 'DenseNet201 (user weights)',
    });
    expect(backbone.model.layers.some((layer) => layer.name === 'dense')).toBe(false);
    const epochs: number[] = [];
    const result = await trainClassifier({
      imagesDir: dir,
      labelsCsv: join(dir, 'labels.csv'),
      labels: BODY_PART_LABELS,
      backbone,
      preprocess: pngToInput,
      config: {
        ...DEFAULT_TRAINING,
        validationFraction: 0.5,
        augmentedCopies: 1,
        head: { ...DEFAULT_TRAINING.head, hiddenUnits: 1024, maxEpochs: 1 },
      },
      onEvent: (event) => event.phase === 'epoch' && epochs.push(event.epoch),
    });
    expect(epochs).toEqual([1]);
    expect(result.split).toMatchObject({
      trainImages: 4,
      validationImages: 4,
      trainPatients: 4,
      validationPatients: 4,
    });
    expect(result.temperature).toBeGreaterThan(0);
    expect(result.model.getLayer('head_dense').getWeights()[0].shape).toEqual([
      backbone.model.getLayer('relu').outputShape[3],
      1024,
    ]);

    const card = await saveModelPackage(join(dir, 'trained'), result.model, {
      name: 'densenet-test',
      version: '0.0.0-test',
      architecture: 'DenseNet201 + GAP + Dense(1024) + Dense(22)',
      preprocessing: backbone.spec,
      labels: [...BODY_PART_LABELS],
      gradcam: { targetLayer: 'relu', animationLayers: ['conv4_block2_concat', 'conv5_block2_concat'] },
      bands: DEFAULT_BAND_THRESHOLDS,
      temperature: result.temperature,
    });
    const loaded = await loadModelPackage(join(dir, 'trained'));
    expect(loaded.card.weightsSha256).toBe(card.weightsSha256);
    const input = await pngToInput(await readFile(join(dir, '0.png')), SPEC);
    const expected = result.model.predict(tf.tensor4d(input, [1, 32, 32, 3])) as tf.Tensor;
    const actual = loaded.model.predict(tf.tensor4d(input, [1, 32, 32, 3])) as tf.Tensor;
    expect(Array.from(await actual.data())).toEqual(Array.from(await expected.data()));
    loaded.model.dispose();
    result.model.dispose();
  }, 90_000);
});
