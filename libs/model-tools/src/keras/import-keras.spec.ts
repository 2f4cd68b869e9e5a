import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeFile, toModelInput } from '@xray/imaging';
import { XrayError } from '@xray/shared';
import { describeWithShared, sharedPath } from '@xray/testing';
import { createTfjsEngine, initTfjsBackend, loadModelPackage } from '@xray/ml';
import { denseNet201 } from '../architectures/densenet201';
import {
  nestedKeras2H5 as keras2H5,
  nestedKeras3Archive as keras3Archive,
  nestedKerasReferenceModel as referenceModel,
  seedLikeKeras2H5,
} from '../../testing/keras-fixtures';
import { createH5File } from './h5';
import { importKeras, parseLabels, readKerasModel } from './import-keras';

const silent = { info: () => undefined };
let dir: string;

beforeAll(async () => {
  await initTfjsBackend({ backend: 'wasm' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xray-keras-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function expectSameOutputs(model: tf.LayersModel): Promise<void> {
  const reference = referenceModel();
  const x = tf.randomUniform([4, 8, 8, 3], -1, 1, 'float32', 42);
  const [a, b] = [model.predict(x) as tf.Tensor, reference.predict(x) as tf.Tensor];
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
  tf.dispose([x, a, b]);
  reference.dispose();
}

describe.each([
  ['Keras 2 HDF5', 'model.h5', keras2H5, 'keras2-h5'],
  ['Keras 3 .keras', 'model.keras', keras3Archive, 'keras3'],
] as const)('import of a nested %s model', (_title, fileName, write, format) => {
  it('flattens the nested backbone, keeps layer names and maps every weight', async () => {
    const { model, format: read } = await readKerasModel(await write());
    expect(read).toBe(format);
    expect(model.layers.map((l) => l.name)).toEqual([
      'image',
      'conv1/conv',
      'conv_bn',
      'conv_relu',
      'dw',
      'conv2',
      'target_relu',
      'gap',
      'dense',
    ]);
    await expectSameOutputs(model);
    model.dispose();
  });

  it('writes a model package whose target layer inside the nested model can be explained', async () => {
    const file = path.join(dir, fileName);
    await fs.writeFile(file, await write());
    const out = path.join(dir, `pkg-${format}`);
    const card = await importKeras(file, out, { labels: ['a', 'b', 'c'], normalization: 'zero1' });
    expect(card).toMatchObject({
      name: 'model',
      labels: ['a', 'b', 'c'],
      gradcam: { targetLayer: 'target_relu' },
      preprocessing: { width: 8, height: 8, channels: 3, normalization: 'zero1' },
    });
    const pkg = await loadModelPackage(out);
    await expectSameOutputs(pkg.model);
    const engine = await createTfjsEngine(pkg, { logger: silent, warmUp: false });
    const cam = await engine.explain(new Float32Array(8 * 8 * 3).fill(0.5), { layer: 'conv_relu' });
    expect(cam.mapShape).toEqual([8, 8]);
    await engine.dispose();
  });
});

describe('import of a seed-like Keras 2 classifier (DenseNet201 sub-model + Dense head)', () => {
  it('reaches conv5 blocks inside the nested DenseNet and matches the nested original', async () => {
    // Real DenseNet201 layer names and wiring, fewer blocks per stage to keep the test fast.
    const backbone = denseNet201({ inputSize: 32, classes: 22, head: 'none', blocks: [2, 2, 2, 2] });
    const { bytes, reference } = await seedLikeKeras2H5(backbone, 22);
    const file = path.join(dir, 'seed.h5');
    await fs.writeFile(file, bytes);
    const card = await importKeras(file, path.join(dir, 'seed'), { targetLayer: 'conv5_block1_concat' });
    expect(card.labels).toHaveLength(22);
    expect(card.gradcam.animationLayers).toEqual(['conv3_block2_concat', 'conv4_block2_concat', 'conv5_block2_concat']);
    const pkg = await loadModelPackage(path.join(dir, 'seed'));
    expect(pkg.model.layers.some((l) => l.name === 'densenet201')).toBe(false); // flattened
    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 9);
    const [a, b] = [pkg.model.predict(x) as tf.Tensor, reference.predict(x) as tf.Tensor];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    const engine = await createTfjsEngine(pkg, { logger: silent, warmUp: false });
    const cam = await engine.explain((await x.slice(0, 1).data()) as Float32Array);
    expect(cam).toMatchObject({ layer: 'conv5_block1_concat', mapShape: [1, 1] });
    tf.dispose([x, a, b]);
    await engine.dispose();
    reference.dispose();
  }, 60_000);
});

describe('Keras import errors', () => {
  it('rejects a weights-only HDF5, a non-model file and a missing label list clearly', async () => {
    const weightsOnly = await createH5File((file) => file.create_group('dense'));
    await expect(readKerasModel(weightsOnly)).rejects.toThrow(/no model_config: it holds weights only/);
    await expect(readKerasModel(Buffer.from('not a model at all'))).rejects.toThrow(XrayError);
    const file = path.join(dir, 'three.h5');
    await fs.writeFile(file, await keras2H5());
    await expect(importKeras(file, path.join(dir, 'nolabels'))).rejects.toThrow(/3 outputs: give its labels/);
  });

  it('reads Teachable Machine style labels.txt', () => {
    expect(parseLabels('0 Abdomen\n1 Cervical Spine\n')).toEqual(['Abdomen', 'Cervical Spine']);
    expect(parseLabels('Abdomen\r\nCervical Spine\r\n')).toEqual(['Abdomen', 'Cervical Spine']);
  });
});

describeWithShared(
  'Teachable Machine MobileNetV2 (real Keras 2.4 HDF5)',
  ['models/teachable-machine-mobilenetv2/keras_model.h5', 'data/unifesp/labels.csv'],
  () => {
    it('imports it and classifies UNIFESP images far above chance (any of the row labels is a hit)', async () => {
      const out = path.join(dir, 'tm');
      const labels = parseLabels(
        await fs.readFile(sharedPath('models/teachable-machine-mobilenetv2/labels.txt'), 'utf8'),
      );
      const card = await importKeras(sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'), out, {
        labels,
      });
      expect(card.gradcam).toEqual({
        targetLayer: 'out_relu',
        animationLayers: ['block_5_add', 'block_12_add', 'out_relu'],
      });
      const engine = await createTfjsEngine(out, { logger: silent });
      const rows = (await fs.readFile(sharedPath('data/unifesp/labels.csv'), 'utf8')).trim().split('\n').slice(1, 151);
      let hits = 0;
      for (let i = 0; i < rows.length; i += 10) {
        const batch = rows.slice(i, i + 10).map((row) => row.split(','));
        const inputs = await Promise.all(
          batch.map(async ([file]) =>
            toModelInput(await decodeFile(sharedPath('data/unifesp/images', file)), card.preprocessing),
          ),
        );
        const results = await engine.classify(inputs);
        results.forEach((r, j) => (hits += batch[j][2].split(' ').map(Number).includes(r.classIndex) ? 1 : 0));
      }
      await engine.dispose();
      // Chance is 1/22 (~5 %); a single wrongly mapped weight brings it near chance.
      expect(hits / rows.length).toBeGreaterThan(0.8);
    }, 120_000);
  },
);
