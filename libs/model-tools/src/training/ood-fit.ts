import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type PreprocessingSpec, XrayError } from '@xray/shared';
import {
  encodeOodModel,
  MODEL_CARD_JSON,
  type ModelCard,
  type OodCard,
  type OodModel,
  oodScore,
  sha256Hex,
} from '@xray/ml';
import { writeAtomically } from '../onnx/package-export';
import { DEFAULT_AUGMENTATION } from './augment';
import { type LabelledImage, readLabelsCsv } from './dataset';
import { extractFeatures, type Preprocess } from './features';
import { seededRandom } from './random';
import { groupedSplit } from './split';

export const OOD_FILE = 'ood.bin';

export interface OodFitConfig {
  /** Leading eigenvectors of the shared covariance kept; the rest of the space gets one variance. */
  components: number;
  /** Shrinkage of every variance towards the mean variance (0 = none, 1 = isotropic). */
  shrinkage: number;
  /** Share of validation images meant to score above the threshold. */
  targetValidationShare: number;
}

export const DEFAULT_OOD_FIT: OodFitConfig = { components: 128, shrinkage: 0.1, targetValidationShare: 0.01 };

/**
 * Class means and a shared, shrunk covariance of training features (each row assigned to its
 * first label). The covariance is summarised by its leading eigenvectors (subspace iteration)
 * and the mean variance of the remaining directions, which keeps the file small.
 */
export function fitOodStatistics(
  features: Float32Array[],
  labels: number[][],
  config: Pick<OodFitConfig, 'components' | 'shrinkage'>,
): Omit<OodModel, 'threshold'> {
  if (features.length < 2) throw new XrayError('VALIDATION_FAILED', 'need at least two training images to fit OOD');
  const d = features[0].length;
  const classIds = [...new Set(labels.map((l) => l[0]))].sort((a, b) => a - b);
  const means = new Float32Array(classIds.length * d);
  const counts = new Array<number>(classIds.length).fill(0);
  const row = labels.map((l) => classIds.indexOf(l[0]));
  features.forEach((f, n) => {
    counts[row[n]]++;
    for (let j = 0; j < d; j++) means[row[n] * d + j] += f[j];
  });
  for (let c = 0; c < classIds.length; c++) for (let j = 0; j < d; j++) means[c * d + j] /= counts[c];
  const residuals = new Float32Array(features.length * d);
  features.forEach((f, n) => {
    for (let j = 0; j < d; j++) residuals[n * d + j] = f[j] - means[row[n] * d + j];
  });
  const covariance = tf.tidy(() => {
    const r = tf.tensor2d(residuals, [features.length, d]);
    return tf.div(tf.matMul(r, r, true, false), features.length) as tf.Tensor2D;
  });
  const k = Math.min(config.components, d - 1, features.length - 1);
  const { vectors, values } = leadingEigenvectors(covariance, k);
  const trace = tf.tidy(() => tf.sum(tf.mul(tf.eye(d), covariance)).dataSync()[0]);
  covariance.dispose();
  const meanVariance = trace / d;
  const rest = Math.max(0, trace - values.reduce((sum, v) => sum + v, 0)) / (d - k);
  const shrink = (v: number) => (1 - config.shrinkage) * v + config.shrinkage * meanVariance;
  return {
    means,
    components: vectors,
    variances: Float32Array.from(values, shrink),
    residualVariance: shrink(rest),
    dimensions: d,
    classes: classIds.length,
  };
}

/** The score above which `share` of `scores` lie (at most floor(share * n) of them). */
export function thresholdForShare(scores: number[], share: number): number {
  const sorted = [...scores].sort((a, b) => a - b);
  const above = Math.floor(share * sorted.length);
  return sorted[Math.max(0, sorted.length - above - 1)];
}

/** Top-k eigenpairs of a symmetric positive semi-definite matrix: subspace iteration, then Rayleigh-Ritz. */
function leadingEigenvectors(matrix: tf.Tensor2D, k: number): { vectors: Float32Array; values: number[] } {
  const d = matrix.shape[0];
  const random = seededRandom(1);
  let basis: Float32Array = new Float32Array(d * k).map(() => random() - 0.5); // d x k, row-major
  for (let iteration = 0; iteration < 40; iteration++) {
    const product = tf.tidy(() => tf.matMul(matrix, tf.tensor2d(basis, [d, k])).dataSync() as Float32Array);
    basis = orthonormalColumns(product, d, k);
  }
  const small = tf.tidy(() => {
    const q = tf.tensor2d(basis, [d, k]);
    return Array.from(tf.matMul(tf.matMul(q, matrix, true, false), q).dataSync());
  });
  const { vectors: rotation, values } = jacobiEigen(small, k);
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const vectors = new Float32Array(k * d);
  order.forEach(([, i], rank) => {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let m = 0; m < k; m++) sum += basis[j * k + m] * rotation[m * k + i];
      vectors[rank * d + j] = sum;
    }
  });
  return { vectors, values: order.map(([v]) => Math.max(0, v)) };
}

/** Modified Gram-Schmidt on the columns of a d x k row-major matrix. */
function orthonormalColumns(matrix: Float32Array, d: number, k: number): Float32Array {
  const columns = Array.from({ length: k }, (_, c) => Float64Array.from({ length: d }, (_, j) => matrix[j * k + c]));
  for (let c = 0; c < k; c++) {
    const column = columns[c];
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += column[j] * columns[p][j];
      for (let j = 0; j < d; j++) column[j] -= dot * columns[p][j];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += column[j] * column[j];
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < d; j++) column[j] /= norm;
  }
  const out = new Float32Array(d * k);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) out[j * k + c] = columns[c][j];
  return out;
}

/** Cyclic Jacobi eigen-decomposition of a small symmetric n x n matrix: eigenvectors as columns. */
export function jacobiEigen(symmetric: number[], n: number): { vectors: Float64Array; values: number[] } {
  const a = Float64Array.from(symmetric);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p];
          const arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r];
          const aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p];
          const vrq = v[r * n + q];
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  return { vectors: v, values: Array.from({ length: n }, (_, i) => a[i * n + i]) };
}

export interface PackageOodInput {
  /** The packaged network (backbone + pooling + head). */
  model: tf.LayersModel;
  featureLayer: string;
  spec: PreprocessingSpec;
  train: LabelledImage[];
  validation: LabelledImage[];
  readImage: (file: string) => Promise<Uint8Array>;
  preprocess: Preprocess;
  config?: OodFitConfig;
  onProgress?: (done: number, total: number) => void;
}

export interface PackageOodFit {
  model: OodModel;
  card: Omit<OodCard, 'file' | 'sha256'>;
  /** Validation scores, in the order of `validation`. */
  validationScores: number[];
  /** Median score of the training images: how far the threshold sits from them, for a fit on every image. */
  medianTrainingScore: number;
}

/** Fits the out-of-distribution model of a packaged network on its training images; calibrates the threshold on validation. */
export async function fitPackageOod(input: PackageOodInput): Promise<PackageOodFit> {
  const config = input.config ?? DEFAULT_OOD_FIT;
  const of = await packageFeatures(input, [...input.train, ...input.validation]);
  const statistics = fitOodStatistics(
    input.train.map(of),
    input.train.map((image) => image.labels),
    config,
  );
  const score = (image: LabelledImage) => oodScore({ ...statistics, threshold: Infinity }, of(image));
  const validationScores = input.validation.map(score);
  const threshold = thresholdForShare(validationScores, config.targetValidationShare);
  return {
    model: { ...statistics, threshold },
    validationScores,
    medianTrainingScore: median(input.train.map(score)),
    card: {
      featureLayer: input.featureLayer,
      dimensions: statistics.dimensions,
      classes: statistics.classes,
      components: statistics.variances.length,
      residualVariance: statistics.residualVariance,
      threshold,
      fit: {
        trainImages: input.train.length,
        shrinkage: config.shrinkage,
        targetValidationShare: config.targetValidationShare,
        validationImages: input.validation.length,
        validationShareAbove: validationScores.filter((s) => s > threshold).length / validationScores.length,
      },
    },
  };
}

/**
 * The OOD model of a network trained on every image (nothing left to calibrate on): fitted on all
 * of them, with the threshold placed as far above their median score as the split run's threshold
 * sat above its training images' median (network and fit both saw those images in either case).
 */
export async function fitPackageOodOnAll(
  input: Omit<PackageOodInput, 'train' | 'validation'> & { images: LabelledImage[]; split: PackageOodFit },
): Promise<PackageOodFit> {
  const config = input.config ?? DEFAULT_OOD_FIT;
  const of = await packageFeatures(input, input.images);
  const statistics = fitOodStatistics(
    input.images.map(of),
    input.images.map((image) => image.labels),
    config,
  );
  const medianTrainingScore = median(
    input.images.map((image) => oodScore({ ...statistics, threshold: Infinity }, of(image))),
  );
  const ratio = input.split.model.threshold / input.split.medianTrainingScore;
  const threshold = ratio * medianTrainingScore;
  return {
    model: { ...statistics, threshold },
    validationScores: [],
    medianTrainingScore,
    card: {
      ...input.split.card,
      dimensions: statistics.dimensions,
      classes: statistics.classes,
      components: statistics.variances.length,
      residualVariance: statistics.residualVariance,
      threshold,
      fit: { ...input.split.card.fit, trainImages: input.images.length, thresholdToMedianTrainingScore: ratio },
    },
  };
}

/** Pooled features of each image through the packaged network (no cache: the weights are new). */
async function packageFeatures(
  input: Pick<PackageOodInput, 'model' | 'featureLayer' | 'spec' | 'readImage' | 'preprocess' | 'onProgress'>,
  images: LabelledImage[],
): Promise<(image: LabelledImage) => Float32Array> {
  const extractor = tf.model({ inputs: input.model.inputs, outputs: input.model.getLayer(input.featureLayer).output });
  const features = await extractFeatures(
    {
      backboneId: 'ood',
      extractor,
      spec: input.spec,
      augmentation: DEFAULT_AUGMENTATION,
      seed: 0,
      readImage: input.readImage,
      preprocess: input.preprocess,
    },
    images.map((image) => ({ file: image.file, copies: 1 })),
    input.onProgress,
  );
  return (image) => (features.get(image.file) ?? [])[0];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Fits the OOD model of a packaged network on the patient-grouped split of a labelled image set
 * (the same split `xray train` makes with the same fraction and seed).
 */
export async function fitOodOnSplit(
  input: Omit<PackageOodInput, 'train' | 'validation' | 'readImage'> & {
    imagesDir: string;
    labelsCsv: string;
    numClasses: number;
    validationFraction: number;
    seed: number;
  },
): Promise<PackageOodFit> {
  const images = await readLabelsCsv(input.labelsCsv, input.numClasses);
  const split = groupedSplit(images, input.validationFraction, input.seed);
  return fitPackageOod({
    ...input,
    ...split,
    readImage: async (file) => new Uint8Array(await readFile(path.join(input.imagesDir, file))),
  });
}

/** Writes `ood.bin` into the package and records it (with its sha256) in model-card.json, the card last. */
export async function attachOodModel(
  dir: string,
  card: ModelCard,
  fit: Pick<PackageOodFit, 'model' | 'card'>,
): Promise<ModelCard> {
  const bytes = encodeOodModel(fit.model);
  await writeAtomically(path.join(dir, OOD_FILE), bytes);
  const withOod: ModelCard = { ...card, ood: { file: OOD_FILE, sha256: sha256Hex(bytes), ...fit.card } };
  await writeAtomically(path.join(dir, MODEL_CARD_JSON), `${JSON.stringify(withOod, null, 2)}\n`);
  return withOod;
}
