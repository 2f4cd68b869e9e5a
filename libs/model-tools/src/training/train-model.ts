import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type BandThresholds, DEFAULT_BAND_THRESHOLDS, type PreprocessingSpec, XrayError } from '@xray/shared';
import { calibratedSoftmax, type TestTimeAugmentation } from '@xray/ml';
import { type AugmentationConfig, DEFAULT_AUGMENTATION } from './augment';
import { fitTemperature, applyTemperature } from './calibration';
import { classCounts, readLabelsCsv, type LabelledImage } from './dataset';
import { extractFeatures, featureExtractor, type FeatureSource, type Preprocess } from './features';
import {
  backboneTop,
  type BackboneTop,
  fineTune,
  type FineTuneConfig,
  type FineTuneResult,
  pooledTopFeatures,
  predictTop,
} from './fine-tune';
import {
  adjustForClassPrior,
  buildHead,
  DEFAULT_HEAD,
  type HeadConfig,
  HEAD_LAYER_NAMES,
  headLayers,
  predictHead,
  trainHead,
} from './head';
import type { EpochReport, StepReport } from './training-loop';
import { bootstrapIntervals, type ConfidenceIntervals } from './intervals';
import { evaluatePredictions, type EvaluationMetrics } from './metrics';
import { groupedSplit } from './split';
import { type ClassWeighting, classWeights, rowWeight, softTarget } from './targets';

/** A pretrained backbone ready for transfer learning. */
export interface TrainingBackbone {
  model: tf.LayersModel;
  /** Stable identity of its weights (e.g. sha256), for the feature cache. */
  id: string;
  /** Short description, e.g. 'nsfwjs MobileNetV2 1.0 (MIT)'. */
  name: string;
  /** The layer to cut at (its post-activation output feeds the head; also the Grad-CAM++ target). */
  layer: string;
  spec: PreprocessingSpec;
}

export interface TrainingConfig {
  validationFraction: number;
  seed: number;
  /** Augmented copies per training image on top of the image itself. */
  augmentedCopies: number;
  augmentation: AugmentationConfig;
  head: HeadConfig;
  classWeighting: ClassWeighting;
  bands: BandThresholds;
  /** Also fine-tune the backbone from this layer to the cut layer, after fitting the head (none = frozen backbone). */
  fineTune?: FineTuneConfig;
  /** Served with flip test-time augmentation: the temperature and validation figures are measured that way too. */
  testTimeAugmentation?: TestTimeAugmentation;
  /** Logit adjustment tau applied to the trained head (`adjustForClassPrior`); absent = none. */
  logitAdjustment?: number;
}

export const DEFAULT_TRAINING: TrainingConfig = {
  validationFraction: 0.2,
  seed: 42,
  augmentedCopies: 2,
  augmentation: DEFAULT_AUGMENTATION,
  head: DEFAULT_HEAD,
  classWeighting: 'sqrt',
  bands: DEFAULT_BAND_THRESHOLDS,
};

export type TrainingEvent =
  | { phase: 'features'; done: number; total: number }
  | ({ phase: 'step' } & StepReport)
  | ({ phase: 'epoch' } & EpochReport)
  | ({ phase: 'fine-tune-step' } & StepReport)
  | ({ phase: 'fine-tune-epoch' } & EpochReport);

export interface TrainingInput {
  imagesDir: string;
  labelsCsv: string;
  labels: readonly string[];
  backbone: TrainingBackbone;
  preprocess: Preprocess;
  config: TrainingConfig;
  /** Feature cache folder (outside git); none = no cache. */
  cacheDir?: string;
  onEvent?: (event: TrainingEvent) => void;
}

export interface TrainingResult {
  /** Backbone (cut at the backbone's layer) + global average pooling + the trained head, as one model. */
  model: tf.LayersModel;
  temperature: number;
  split: {
    trainImages: number;
    validationImages: number;
    trainPatients: number;
    validationPatients: number;
    validationFiles: string[];
  };
  /** Training images per class (a multi-label row counts for each of its labels). */
  trainClassCounts: number[];
  /** Validation metrics after temperature scaling, their patient-bootstrap intervals, and the uncalibrated ECE / NLL for reference. */
  validation: EvaluationMetrics & { intervals: ConfidenceIntervals; uncalibratedEce: number; uncalibratedNll: number };
  epochsRun: number;
  bestEpoch: number;
  history: EpochReport[];
  /** Present when the backbone top was fine-tuned (after the head). */
  fineTuning?: FineTuneResult;
  seconds: { features: number; head: number; fineTune: number; total: number };
}

/**
 * Transfer learning with a frozen backbone: pooled backbone features of each training image and
 * of `augmentedCopies` augmented copies are computed once (cached), a fresh head is trained on them
 * with class weighting and early stopping on a patient-grouped validation split, and a softmax
 * temperature is fitted on that split.
 */
export async function trainClassifier(input: TrainingInput): Promise<TrainingResult> {
  const started = Date.now();
  const { config, labels } = input;
  const split = groupedSplit(await readImages(input), config.validationFraction, config.seed);
  if (split.train.length === 0 || split.validation.length === 0) {
    throw new XrayError(
      'VALIDATION_FAILED',
      'Too few patients for a train/validation split (need at least two per class for validation).',
    );
  }
  const { top, cached, featuresOf } = await prepareFeatures(input, split.train, split.validation);
  const featuresDone = Date.now();
  const validationLabels = split.validation.map((image) => image.labels);
  const fit = await fitHeadAndTop(input, top, cached, featuresOf, split.train, {
    images: split.validation,
    labels: validationLabels,
  });
  const headDone = fit.headDone;
  const trainClassCounts = classCounts(split.train, labels.length);
  if (config.logitAdjustment) adjustForClassPrior(fit.head, trainClassCounts, config.logitAdjustment);
  const raw = await validationPredictions(input, top, fit.head, split.validation, cached, featuresOf);
  const temperature = fitTemperature(raw, validationLabels);
  const uncalibrated = evaluatePredictions(raw, validationLabels, labels, config.bands);
  const calibrated = evaluatePredictions(
    raw.map((p) => applyTemperature(p, temperature)),
    validationLabels,
    labels,
    config.bands,
  );
  const model = composeModel(input.backbone, fit.head, labels.length, config);
  fit.head.dispose();
  top?.dispose();
  const done = Date.now();
  return {
    model,
    temperature,
    split: {
      trainImages: split.train.length,
      validationImages: split.validation.length,
      trainPatients: new Set(split.train.map((image) => image.patientId)).size,
      validationPatients: new Set(split.validation.map((image) => image.patientId)).size,
      validationFiles: split.validation.map((image) => image.file),
    },
    trainClassCounts,
    validation: {
      ...calibrated,
      intervals: bootstrapIntervals(
        raw,
        validationLabels,
        split.validation.map((image) => image.patientId),
        labels.length,
      ),
      uncalibratedEce: uncalibrated.ece,
      uncalibratedNll: uncalibrated.nll,
    },
    epochsRun: fit.training.epochsRun,
    bestEpoch: fit.training.bestEpoch,
    history: fit.training.history,
    fineTuning: fit.fineTuning,
    seconds: {
      features: (featuresDone - started) / 1000,
      head: (headDone - featuresDone) / 1000,
      fineTune: (done - headDone) / 1000,
      total: (done - started) / 1000,
    },
  };
}

export interface AllImagesResult {
  /** Same composition as the split run's model, trained on every image. */
  model: tf.LayersModel;
  images: number;
  patients: number;
  /** Images per class (a multi-label row counts for each of its labels). */
  classCounts: number[];
  seconds: { features: number; head: number; fineTune: number; total: number };
}

/**
 * The split run's recipe on every image: no validation data, so the head trains for exactly
 * `headEpochs` epochs and the top for `fineTuneEpochs` (the best epochs the split run found; 0 =
 * the head alone was best). The backbone must hold its pretrained weights (load it afresh).
 */
export async function trainOnAllImages(
  input: TrainingInput,
  epochs: { head: number; fineTune: number },
): Promise<AllImagesResult> {
  const started = Date.now();
  const { labels } = input;
  const images = await readImages(input);
  const config: TrainingConfig = {
    ...input.config,
    head: { ...input.config.head, maxEpochs: Math.max(1, epochs.head) },
    // With 0 fine-tuning epochs the top is still where the cached activations start, just not trained.
    fineTune: input.config.fineTune && { ...input.config.fineTune, maxEpochs: epochs.fineTune },
  };
  const allInput = { ...input, config };
  const { top, cached, featuresOf } = await prepareFeatures(allInput, images, []);
  const featuresDone = Date.now();
  const fit = await fitHeadAndTop(allInput, top, cached, featuresOf, images, undefined);
  const counts = classCounts(images, labels.length);
  if (config.logitAdjustment) adjustForClassPrior(fit.head, counts, config.logitAdjustment);
  const model = composeModel(input.backbone, fit.head, labels.length, config);
  fit.head.dispose();
  top?.dispose();
  const done = Date.now();
  return {
    model,
    images: images.length,
    patients: new Set(images.map((image) => image.patientId)).size,
    classCounts: counts,
    seconds: {
      features: (featuresDone - started) / 1000,
      head: (fit.headDone - featuresDone) / 1000,
      fineTune: (done - fit.headDone) / 1000,
      total: (done - started) / 1000,
    },
  };
}

async function readImages(input: TrainingInput): Promise<LabelledImage[]> {
  const images = await readLabelsCsv(input.labelsCsv, input.labels.length);
  await assertImagesExist(input.imagesDir, images);
  return images;
}

/**
 * Class probabilities of the validation images from the trained head (and top); with flip test-time
 * augmentation, averaged in log space with those of the mirrored images, as the engines serve them.
 */
async function validationPredictions(
  input: TrainingInput,
  top: BackboneTop | undefined,
  head: tf.LayersModel,
  validation: LabelledImage[],
  cached: Map<string, Float32Array[]>,
  featuresOf: (file: string) => Float32Array[],
): Promise<Float32Array[]> {
  const predict = async (activations: Float32Array[], pooled: Float32Array[]) =>
    top ? predictTop(top, head, activations) : predictHead(head, pooled);
  const plain = await predict(
    validation.map((image) => cached.get(image.file)?.[0] ?? new Float32Array(0)),
    validation.map((image) => featuresOf(image.file)[0]),
  );
  if (input.config.testTimeAugmentation !== 'hflip') return plain;
  const mirrored = await extractFeatures(
    { ...featureSource(input, top), mirrored: true },
    validation.map((image) => ({ file: image.file, copies: 1 })),
  );
  const mirroredActivations = validation.map((image) => mirrored.get(image.file)?.[0] ?? new Float32Array(0));
  const mirroredPredictions = await predict(mirroredActivations, mirroredActivations);
  return plain.map((p, i) => {
    const logits = Array.from(
      p,
      (value, k) => (Math.log(Math.max(value, 1e-30)) + Math.log(Math.max(mirroredPredictions[i][k], 1e-30))) / 2,
    );
    return Float32Array.from(calibratedSoftmax(logits));
  });
}

function featureSource(input: TrainingInput, top: BackboneTop | undefined): FeatureSource {
  const { config } = input;
  return {
    backboneId: top ? `${input.backbone.id}#input-of:${config.fineTune?.fromLayer}` : input.backbone.id,
    extractor: top ? top.extractor : featureExtractor(input.backbone.model, input.backbone.layer),
    spec: input.backbone.spec,
    augmentation: config.augmentation,
    seed: config.seed,
    readImage: (file) => readFile(join(input.imagesDir, file)),
    preprocess: input.preprocess,
    cacheDir: input.cacheDir,
  };
}

/**
 * Backbone outputs of every training copy and validation image, computed once (cached): with
 * fine-tuning, the activations where the trained top starts (plus their pooled top outputs);
 * otherwise the pooled cut-layer features.
 */
async function prepareFeatures(input: TrainingInput, train: LabelledImage[], validation: LabelledImage[]) {
  const { config } = input;
  const top = config.fineTune
    ? backboneTop(input.backbone.model, config.fineTune.fromLayer, input.backbone.layer)
    : undefined;
  const cached = await extractFeatures(
    featureSource(input, top),
    [
      ...train.map((image) => ({ file: image.file, copies: 1 + config.augmentedCopies })),
      ...validation.map((image) => ({ file: image.file, copies: 1 })),
    ],
    (done, total) => input.onEvent?.({ phase: 'features', done, total }),
  );
  const features = top ? await poolThroughTop(top, cached) : cached;
  return { top, cached, featuresOf: (file: string): Float32Array[] => features.get(file) ?? [] };
}

/** A fresh head on the pooled features, then (when configured) the backbone top and the head together. */
async function fitHeadAndTop(
  input: TrainingInput,
  top: BackboneTop | undefined,
  cached: Map<string, Float32Array[]>,
  featuresOf: (file: string) => Float32Array[],
  train: LabelledImage[],
  validation: { images: LabelledImage[]; labels: number[][] } | undefined,
) {
  const { config, labels } = input;
  const weights = classWeights(
    train.map((image) => image.labels),
    labels.length,
    config.classWeighting,
  );
  const trainData = { features: [] as Float32Array[], targets: [] as Float32Array[], weights: [] as number[] };
  for (const image of train) {
    for (const copy of featuresOf(image.file)) {
      trainData.features.push(copy);
      trainData.targets.push(softTarget(image.labels, labels.length));
      trainData.weights.push(rowWeight(image.labels, weights));
    }
  }
  const head = buildHead(trainData.features[0].length, labels.length, config.head, config.seed);
  const training = await trainHead(
    head,
    trainData,
    validation && {
      features: validation.images.map((image) => featuresOf(image.file)[0]),
      labels: validation.labels,
    },
    config.head,
    config.seed,
    {
      onStep: (report) => input.onEvent?.({ phase: 'step', ...report }),
      onEpoch: (report) => input.onEvent?.({ phase: 'epoch', ...report }),
    },
  );
  const headDone = Date.now();
  let fineTuning: FineTuneResult | undefined;
  if (top && config.fineTune && config.fineTune.maxEpochs > 0) {
    const activationsOf = (file: string): Float32Array[] => cached.get(file) ?? [];
    fineTuning = await fineTune(
      top,
      head,
      {
        activations: train.flatMap((image) => activationsOf(image.file)),
        targets: trainData.targets,
        weights: trainData.weights,
      },
      validation && {
        activations: validation.images.map((image) => activationsOf(image.file)[0]),
        labels: validation.labels,
      },
      config.fineTune,
      config.seed,
      {
        onStep: (report) => input.onEvent?.({ phase: 'fine-tune-step', ...report }),
        onEpoch: (report) => input.onEvent?.({ phase: 'fine-tune-epoch', ...report }),
      },
    );
  }
  return { head, training, headDone, fineTuning };
}

/** Per file and copy: the cached activations run through the frozen top and pooled. */
async function poolThroughTop(
  top: BackboneTop,
  activations: Map<string, Float32Array[]>,
): Promise<Map<string, Float32Array[]>> {
  const files = [...activations.keys()];
  const pooled = await pooledTopFeatures(
    top,
    files.flatMap((file) => activations.get(file) ?? []),
  );
  const result = new Map<string, Float32Array[]>();
  let next = 0;
  for (const file of files)
    result.set(
      file,
      (activations.get(file) ?? []).map(() => pooled[next++]),
    );
  return result;
}

/** Backbone input -> cut layer -> global average pooling -> head, with the trained head's weights. */
export function composeModel(
  backbone: TrainingBackbone,
  head: tf.LayersModel,
  numClasses: number,
  config: TrainingConfig,
): tf.LayersModel {
  let output = tf.layers
    .globalAveragePooling2d({ name: HEAD_LAYER_NAMES.pooling })
    .apply(backbone.model.getLayer(backbone.layer).getOutputAt(0)) as tf.SymbolicTensor;
  const layers = headLayers(numClasses, config.head, config.seed);
  for (const layer of layers) output = layer.apply(output) as tf.SymbolicTensor;
  const model = tf.model({ inputs: backbone.model.inputs, outputs: output, name: 'bodypart' });
  for (const layer of layers) {
    const trained = head.getLayer(layer.name).getWeights();
    if (trained.length > 0) layer.setWeights(trained);
  }
  return model;
}

async function assertImagesExist(imagesDir: string, images: LabelledImage[]): Promise<void> {
  const missing: string[] = [];
  for (const image of images) {
    if (!(await stat(join(imagesDir, image.file)).catch(() => undefined))) missing.push(image.file);
  }
  if (missing.length > 0) {
    throw new XrayError(
      'VALIDATION_FAILED',
      `${missing.length} image(s) listed in the labels CSV are missing from ${imagesDir}, e.g. ${missing[0]}.`,
    );
  }
}
