import { createHash } from 'node:crypto';
import { OUT_OF_DISTRIBUTION_WARNING, XrayError } from '@xray/shared';
import type { ModelCard, OodCard } from '../model-card';
import type { PackageReader } from '../package/package-source';

/** The warning an input gets when its features are unlike every class the model was trained on. */
export const OUT_OF_DISTRIBUTION = OUT_OF_DISTRIBUTION_WARNING;

/**
 * Mahalanobis distance of pooled features to the nearest class mean under one shared covariance,
 * kept as its leading eigenvectors plus one variance for the rest of the space:
 * Sigma = V diag(lambda) V^T + residual (I - V V^T), with lambda and residual already shrunk.
 */
export interface OodModel {
  /** classes x dimensions, row-major. */
  means: Float32Array;
  /** components x dimensions, row-major, orthonormal rows. */
  components: Float32Array;
  /** Variance along each component. */
  variances: Float32Array;
  residualVariance: number;
  dimensions: number;
  classes: number;
  threshold: number;
}

/** One image's out-of-distribution verdict. */
export interface OodResult {
  /** Mahalanobis distance to the nearest class mean, divided by sqrt(dimensions) (about 1 for a typical training image). */
  score: number;
  threshold: number;
  outOfDistribution: boolean;
}

/** The score of one feature vector (see OodResult.score). */
export function oodScore(model: OodModel, features: ArrayLike<number>): number {
  const { dimensions: d, classes, residualVariance, variances } = model;
  const k = variances.length;
  if (features.length !== d) {
    throw new XrayError('MODEL_INVALID', `out-of-distribution model expects ${d} features, got ${features.length}`);
  }
  const { meanProjections, meanNorms } = derived(model);
  const projection = project(model.components, k, d, features);
  let norm = 0;
  for (let j = 0; j < d; j++) norm += features[j] * features[j];
  let best = Infinity;
  for (let c = 0; c < classes; c++) {
    // |x - mean|^2 = |x|^2 - 2 x.mean + |mean|^2; projections are linear, so project x and the mean apart.
    let dot = 0;
    for (let j = 0; j < d; j++) dot += features[j] * model.means[c * d + j];
    const centredNorm = norm - 2 * dot + meanNorms[c];
    let explained = 0;
    let inComponents = 0;
    for (let i = 0; i < k; i++) {
      const p = projection[i] - meanProjections[c * k + i];
      inComponents += p * p;
      explained += (p * p) / variances[i];
    }
    const squared = explained + Math.max(0, centredNorm - inComponents) / residualVariance;
    if (squared < best) best = squared;
  }
  return Math.sqrt(best / d);
}

const derivedCache = new WeakMap<OodModel, { meanProjections: Float64Array; meanNorms: Float64Array }>();

/** Per class: the mean's projections on the components and its squared norm (computed once per model). */
function derived(model: OodModel): { meanProjections: Float64Array; meanNorms: Float64Array } {
  let cached = derivedCache.get(model);
  if (!cached) {
    const { dimensions: d, classes } = model;
    const k = model.variances.length;
    const meanProjections = new Float64Array(classes * k);
    const meanNorms = new Float64Array(classes);
    for (let c = 0; c < classes; c++) {
      const mean = model.means.subarray(c * d, (c + 1) * d);
      meanProjections.set(project(model.components, k, d, mean), c * k);
      for (let j = 0; j < d; j++) meanNorms[c] += mean[j] * mean[j];
    }
    cached = { meanProjections, meanNorms };
    derivedCache.set(model, cached);
  }
  return cached;
}

function project(components: Float32Array, k: number, d: number, vector: ArrayLike<number>): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += components[i * d + j] * vector[j];
    out[i] = sum;
  }
  return out;
}

export function oodResult(model: OodModel, features: ArrayLike<number>): OodResult {
  const score = oodScore(model, features);
  return { score, threshold: model.threshold, outOfDistribution: score > model.threshold };
}

/** ood.bin: float32 little-endian means, then components, then variances (sizes in the card). */
export function encodeOodModel(model: OodModel): Uint8Array {
  const values = new Float32Array(model.means.length + model.components.length + model.variances.length);
  values.set(model.means, 0);
  values.set(model.components, model.means.length);
  values.set(model.variances, model.means.length + model.components.length);
  return new Uint8Array(values.buffer);
}

export function decodeOodModel(bytes: Uint8Array, card: OodCard): OodModel {
  const { dimensions: d, classes, components: k } = card;
  const expected = 4 * (classes * d + k * d + k);
  if (bytes.byteLength !== expected) {
    throw new XrayError('MODEL_INVALID', `${card.file} has ${bytes.byteLength} bytes; the card describes ${expected}`);
  }
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return {
    means: values.subarray(0, classes * d),
    components: values.subarray(classes * d, classes * d + k * d),
    variances: values.subarray(classes * d + k * d),
    residualVariance: card.residualVariance,
    dimensions: d,
    classes,
    threshold: card.threshold,
  };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The package's out-of-distribution model, its sha256 checked against the card; undefined when the card has none. */
export async function readOodModel(reader: PackageReader, card: ModelCard): Promise<OodModel | undefined> {
  if (!card.ood) return undefined;
  const bytes = await reader.read(card.ood.file);
  const actual = sha256Hex(bytes);
  if (actual !== card.ood.sha256) {
    throw new XrayError(
      'MODEL_INVALID',
      `${card.ood.file} sha256 ${actual} does not match the model card (${card.ood.sha256}) in ${reader.description}`,
    );
  }
  return decodeOodModel(bytes, card.ood);
}
