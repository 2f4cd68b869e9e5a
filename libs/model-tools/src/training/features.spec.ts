import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { PreprocessingSpec } from '@xray/shared';
import { DEFAULT_AUGMENTATION } from './augment';
import { extractFeatures, type FeatureSource } from './features';

describe('feature extraction', () => {
  const spec: PreprocessingSpec = { width: 4, height: 2, channels: 1, normalization: 'zero1', resize: 'stretch' };
  let cacheDir: string;
  let source: FeatureSource;
  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'xray-features-'));
    // The "backbone" hands its input back, so the features are the model input itself.
    const input = tf.input({ shape: [2, 4, 1] });
    source = {
      backboneId: 'identity',
      extractor: tf.model({ inputs: input, outputs: tf.layers.flatten().apply(input) as tf.SymbolicTensor }),
      spec,
      augmentation: DEFAULT_AUGMENTATION,
      seed: 1,
      readImage: async () => new Uint8Array(0),
      preprocess: async () => Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
      cacheDir,
    };
  });
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('computes the mirrored view for flip test-time augmentation, cached apart from the image as it is', async () => {
    const plain = await extractFeatures(source, [{ file: 'a.png', copies: 1 }]);
    const mirrored = await extractFeatures({ ...source, mirrored: true }, [{ file: 'a.png', copies: 1 }]);
    expect(Array.from(plain.get('a.png')?.[0] ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(mirrored.get('a.png')?.[0] ?? [])).toEqual([3, 2, 1, 0, 7, 6, 5, 4]);
    expect(await readdir(cacheDir)).toHaveLength(2);
    // Read back from the cache, each view is still its own.
    const again = await extractFeatures({ ...source, mirrored: true }, [{ file: 'a.png', copies: 1 }]);
    expect(Array.from(again.get('a.png')?.[0] ?? [])).toEqual([3, 2, 1, 0, 7, 6, 5, 4]);
  });
});
