import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { PreprocessingSpec } from '@xray/shared';
import { mirrorHorizontally } from '@xray/ml';
import { type AugmentationConfig, augmentImage } from './augment';
import { drawPhotometric, type PhotometricParams } from './photometric';
import { deriveSeed, seededRandom } from './random';

/**
 * Turns an image file's bytes into the model input (decodeImage -> toModelInput in the product);
 * with `change`, the decoded rendering is first changed as another site's rendering would be.
 */
export type Preprocess = (
  bytes: Uint8Array,
  spec: PreprocessingSpec,
  change?: PhotometricParams,
) => Promise<Float32Array>;

/** A frozen backbone cut at `layer`, followed by global average pooling: image -> feature vector. */
export function featureExtractor(backbone: tf.LayersModel, layer: string): tf.LayersModel {
  const cut = backbone.getLayer(layer);
  const pooled = tf.layers.globalAveragePooling2d({ name: 'features_gap' }).apply(cut.output) as tf.SymbolicTensor;
  return tf.model({ inputs: backbone.inputs, outputs: pooled });
}

/** Copy 0 is the image as served; copies 1..n are seeded random augmentations. */
export interface FeatureRequest {
  file: string;
  copies: number;
}

export interface FeatureSource {
  /** Identifies the backbone (e.g. the sha256 of its weights) so caches never mix backbones. */
  backboneId: string;
  extractor: tf.LayersModel;
  spec: PreprocessingSpec;
  augmentation: AugmentationConfig;
  seed: number;
  readImage: (file: string) => Promise<Uint8Array>;
  preprocess: Preprocess;
  /** Folder for cached features (outside git, e.g. var/features); none = no cache. */
  cacheDir?: string;
  /** Copy 0 is the image mirrored left-right (the second view of flip test-time augmentation). */
  mirrored?: boolean;
  batchSize?: number;
}

/**
 * Computes (or reads from the cache) the backbone features of every requested copy.
 * Returns features[file][copy]. Progress is reported per image copy.
 */
export async function extractFeatures(
  source: FeatureSource,
  requests: FeatureRequest[],
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, Float32Array[]>> {
  const cacheDir = source.cacheDir ? join(source.cacheDir, cacheKey(source)) : undefined;
  if (cacheDir) await mkdir(cacheDir, { recursive: true });
  const total = requests.reduce((sum, request) => sum + request.copies, 0);
  const result = new Map<string, Float32Array[]>();
  const pending: { file: string; copy: number; input: Float32Array; copies: Float32Array[] }[] = [];
  let done = 0;
  const batchSize = source.batchSize ?? 8;
  const [height, width, channels] = [source.spec.height, source.spec.width, source.spec.channels];

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = tf.tidy(() => tf.stack(pending.map((item) => tf.tensor3d(item.input, [height, width, channels]))));
    const output = source.extractor.predict(batch) as tf.Tensor;
    const values = (await output.data()) as Float32Array;
    batch.dispose();
    output.dispose();
    const size = values.length / pending.length;
    for (const [index, item] of pending.entries()) {
      const features = values.slice(index * size, (index + 1) * size);
      item.copies[item.copy] = features;
      if (cacheDir) await writeAtomically(join(cacheDir, cacheFileName(item.file, item.copy)), features);
    }
    done += pending.length;
    pending.length = 0;
    onProgress?.(done, total);
  };

  for (const request of requests) {
    const copies = new Array<Float32Array>(request.copies);
    result.set(request.file, copies);
    let bytes: Uint8Array | undefined;
    for (let copy = 0; copy < request.copies; copy++) {
      const cached = cacheDir ? await readCached(join(cacheDir, cacheFileName(request.file, copy))) : undefined;
      if (cached) {
        copies[copy] = cached;
        done++;
        continue;
      }
      bytes ??= await source.readImage(request.file);
      const input =
        copy > 0
          ? await augmentedCopy(source, bytes, `${request.file}#${copy}`)
          : source.mirrored
            ? mirrorHorizontally(await source.preprocess(bytes, source.spec), source.spec)
            : await source.preprocess(bytes, source.spec);
      pending.push({ file: request.file, copy, input, copies });
      if (pending.length >= batchSize) await flush();
    }
  }
  await flush();
  onProgress?.(done, total);
  return result;
}

/** One seeded augmented copy: photometric on the decoded rendering (when configured, its own random stream), then geometric. */
async function augmentedCopy(source: FeatureSource, bytes: Uint8Array, key: string): Promise<Float32Array> {
  const { spec, augmentation } = source;
  const change = augmentation.photometric
    ? drawPhotometric(augmentation.photometric, seededRandom(deriveSeed(source.seed, `${key}#photometric`)))
    : undefined;
  return augmentImage(
    await source.preprocess(bytes, spec, change),
    spec.height,
    spec.width,
    spec.channels,
    augmentation,
    seededRandom(deriveSeed(source.seed, key)),
  );
}

function cacheKey(source: FeatureSource): string {
  const identity = JSON.stringify({
    backbone: source.backboneId,
    spec: source.spec,
    augmentation: source.augmentation,
    // Photometric changes moved from the model input to the decoded rendering: older caches differ.
    photometricOn: 'rendering',
    ...(source.mirrored ? { mirrored: true } : {}),
    seed: source.seed,
  });
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

function cacheFileName(file: string, copy: number): string {
  return `${createHash('sha1').update(file).digest('hex')}.${copy}.f32`;
}

async function readCached(path: string): Promise<Float32Array | undefined> {
  try {
    const bytes = await readFile(path);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch {
    return undefined;
  }
}

async function writeAtomically(path: string, features: Float32Array): Promise<void> {
  await writeFile(`${path}.tmp`, Buffer.from(features.buffer, features.byteOffset, features.byteLength));
  await rename(`${path}.tmp`, path);
}
