import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { XrayError } from '@xray/shared';
import { initTfjsBackend } from '../tfjs/backend';
import { writeTinyTestModelPackage } from '../../testing';
import { loadModelPackage, MODEL_CARD_JSON, readLayerNames } from './model-package';

describe('model packages', () => {
  let dir: string;

  beforeAll(async () => {
    await initTfjsBackend({ backend: 'cpu' });
  });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xray-ml-pkg-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function editCard(edit: (card: any) => void): Promise<void> {
    const file = path.join(dir, MODEL_CARD_JSON);
    const card = JSON.parse(await fs.readFile(file, 'utf8'));
    edit(card);
    await fs.writeFile(file, JSON.stringify(card));
  }

  async function expectInvalid(pattern: RegExp): Promise<void> {
    const error = await loadModelPackage(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XrayError);
    expect((error as XrayError).code).toBe('MODEL_INVALID');
    expect((error as XrayError).message).toMatch(pattern);
  }

  it('round-trips through a folder and through object storage with the same predictions', async () => {
    const card = await writeTinyTestModelPackage(dir);
    expect(card.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    const files = await fs.readdir(dir);
    expect(files.sort()).toEqual(['group1-shard1of1.bin', 'model-card.json', 'model.json']);

    const fromDir = await loadModelPackage(dir);
    const store = { get: (key: string) => fs.readFile(path.join(dir, key.replace(/^models\/tiny\//, ''))) };
    const fromStore = await loadModelPackage({ store, prefix: 'models/tiny' });
    expect(fromStore.card).toEqual(card);
    // libs/storage's ObjectStore reads with getBuffer(key).
    const objectStore = await loadModelPackage({ store: { getBuffer: store.get }, prefix: 'models/tiny/' });
    expect(objectStore.card).toEqual(card);
    objectStore.model.dispose();
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 7);
    const a = fromDir.model.predict(x) as tf.Tensor;
    const b = fromStore.model.predict(x) as tf.Tensor;
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([x, a, b]);
    expect(await readLayerNames(dir)).toEqual(fromDir.model.layers.map((l) => l.name));
    fromDir.model.dispose();
    fromStore.model.dispose();
  });

  it('rejects weights that do not match the card sha256', async () => {
    await writeTinyTestModelPackage(dir);
    const shard = path.join(dir, 'group1-shard1of1.bin');
    const bytes = await fs.readFile(shard);
    bytes[100] ^= 0xff;
    await fs.writeFile(shard, bytes);
    await expectInvalid(/sha256 .* does not match the model card/);
  });

  it('rejects a card whose labels, input size or target layer disagree with the network', async () => {
    await writeTinyTestModelPackage(dir);
    await editCard((card) => card.labels.pop());
    await expectInvalid(/21 labels for a network with 22 outputs/);

    await writeTinyTestModelPackage(dir);
    await editCard((card) => (card.preprocessing.width = 224));
    await expectInvalid(/preprocessing says 64x224x3 but the network takes 64x64x3/);

    await writeTinyTestModelPackage(dir);
    await editCard((card) => (card.gradcam.targetLayer = 'conv5_block30_concat'));
    await expectInvalid(/Grad-CAM layer "conv5_block30_concat" is not a layer of the network/);

    await writeTinyTestModelPackage(dir);
    await editCard((card) => (card.gradcam.targetLayer = 'gap'));
    await expectInvalid(/must output one height x width x channels map/);

    await writeTinyTestModelPackage(dir);
    await editCard((card) => (card.bands = { green: 0.5, orange: 0.9 }));
    await expectInvalid(/bands/);

    await writeTinyTestModelPackage(dir);
    await editCard((card) => (card.preprocessing.lowPassSigma = 0.1));
    await expectInvalid(/"preprocessing.lowPassSigma" must be a number from 0.3 to 5/);
  });

  it('says MODEL_NOT_FOUND for a missing package', async () => {
    const error = await loadModelPackage(path.join(dir, 'absent')).catch((e: unknown) => e);
    expect((error as XrayError).code).toBe('MODEL_NOT_FOUND');
    expect((error as XrayError).message).toContain('model-card.json');
  });
});
