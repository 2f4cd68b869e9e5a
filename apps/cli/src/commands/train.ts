import { cpus } from 'node:os';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { type Command, Option } from 'commander';
import {
  BODY_PART_LABELS,
  LOW_PASS_SIGMA_RANGE,
  type Normalization,
  type Rendering,
  type ResizeMode,
  XrayError,
} from '@xray/shared';
import {
  createTfjsEngine,
  initTfjsBackend,
  knownTargetLayer,
  MODEL_CARD_JSON,
  type ModelCard,
  type ModelCardDraft,
  saveModelPackage,
  TEST_TIME_AUGMENTATIONS,
  type TestTimeAugmentation,
} from '@xray/ml';
import {
  DEFAULT_FINE_TUNE,
  attachOodModel,
  DEFAULT_TRAINING,
  evaluateModel,
  fitOodOnSplit,
  fitPackageOodOnAll,
  HEAD_LAYER_NAMES,
  PHOTOMETRIC_PRESETS,
  loadTrainingBackbone,
  readLabelsCsv,
  renderModelCardMarkdown,
  trainClassifier,
  trainOnAllImages,
  type ClassWeighting,
  type PhotometricPreset,
  type RobustnessReport,
  type TrainingBackbone,
  type TrainingConfig,
  type TrainingEvent,
  type TrainingResult,
} from '@xray/model-tools';
import { servingPreprocess } from './serving-model';
import { progressDisplay } from './progress-display';

/** Parses a numeric option; a bad value is a clear error, not a NaN deep inside training. */
export function numberOption(name: string, value: string, min: number, integer = false): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
    throw new XrayError(
      'VALIDATION_FAILED',
      `--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min} (got "${value}")`,
    );
  }
  return parsed;
}

function lowPassSigma(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const sigma = numberOption('low-pass-sigma', value, LOW_PASS_SIGMA_RANGE.min);
  if (sigma > LOW_PASS_SIGMA_RANGE.max) {
    throw new XrayError(
      'VALIDATION_FAILED',
      `--low-pass-sigma must be at most ${LOW_PASS_SIGMA_RANGE.max} (got ${value})`,
    );
  }
  return sigma;
}

function logitAdjustment(value: string): Pick<TrainingConfig, 'logitAdjustment'> {
  const tau = numberOption('logit-adjustment', value, 0);
  return tau > 0 ? { logitAdjustment: tau } : {};
}

function trainingConfig(options: TrainOptions): TrainingConfig {
  return {
    ...DEFAULT_TRAINING,
    validationFraction: numberOption('validation-fraction', options.validationFraction, 0.01),
    seed: numberOption('seed', options.seed, 0, true),
    augmentedCopies: numberOption('augmented-copies', options.augmentedCopies, 0, true),
    augmentation: {
      ...DEFAULT_TRAINING.augmentation,
      ...(options.photometric === 'none' ? {} : { photometric: PHOTOMETRIC_PRESETS[options.photometric] }),
    },
    classWeighting: options.classWeighting,
    ...(options.testTimeAugmentation === 'none' ? {} : { testTimeAugmentation: options.testTimeAugmentation }),
    ...logitAdjustment(options.logitAdjustment),
    head: {
      ...DEFAULT_TRAINING.head,
      hiddenUnits: numberOption('hidden', options.hidden, 0, true),
      dropout: numberOption('dropout', options.dropout, 0),
      learningRate: numberOption('learning-rate', options.learningRate, 0),
      maxEpochs: numberOption('epochs', options.epochs, 1, true),
      patience: numberOption('patience', options.patience, 1, true),
    },
    fineTune: options.fineTuneFrom
      ? {
          ...DEFAULT_FINE_TUNE,
          fromLayer: options.fineTuneFrom,
          maxEpochs: numberOption('fine-tune-epochs', options.fineTuneEpochs, 1, true),
          learningRate: numberOption('fine-tune-learning-rate', options.fineTuneLearningRate, 0),
          weightDecay: numberOption('fine-tune-weight-decay', options.fineTuneWeightDecay, 0),
          patience: numberOption('fine-tune-patience', options.fineTunePatience, 1, true),
        }
      : undefined,
  };
}

interface TrainOptions {
  images: string;
  labels: string;
  backbone: string;
  out: string;
  layer: string;
  normalization: Normalization;
  resize: ResizeMode;
  rendering: Rendering;
  lowPassSigma?: string;
  backboneName: string;
  name: string;
  modelVersion: string;
  validationFraction: string;
  seed: string;
  augmentedCopies: string;
  photometric: 'none' | PhotometricPreset;
  hidden: string;
  dropout: string;
  learningRate: string;
  epochs: string;
  patience: string;
  classWeighting: ClassWeighting;
  fineTuneFrom?: string;
  fineTuneEpochs: string;
  fineTuneLearningRate: string;
  fineTuneWeightDecay: string;
  fineTunePatience: string;
  cache: string;
  threads?: string;
  inputSize?: string;
  attribution?: string[];
  dataDescription?: string;
  allImages?: boolean;
  splitOut: string;
  testTimeAugmentation: 'none' | TestTimeAugmentation;
  logitAdjustment: string;
}

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'Train a body-part classifier: pretrained backbone + a fresh head (transfer learning; optionally fine-tuning the top of the backbone), patient-grouped validation, temperature calibration.',
    )
    .requiredOption('--images <dir>', 'folder of the images named in the labels CSV (PNG, JPEG or DICOM)')
    .requiredOption('--labels <csv>', 'CSV with columns file, Target (class indices separated by spaces) and PatientID')
    .requiredOption(
      '--backbone <dir>',
      'pretrained tfjs LayersModel folder (model.json + shards), e.g. ../shared/models/nsfwjs-mobilenetv2',
    )
    .requiredOption('--out <dir>', 'where to write the model package')
    .option('--layer <name>', 'backbone layer to cut at (also the Grad-CAM++ target)', 'out_relu')
    .addOption(
      new Option('--normalization <mode>', 'input normalisation the backbone expects')
        .choices(['minus1to1', 'zero1', 'imagenet'])
        .default('minus1to1'),
    )
    .addOption(
      new Option('--resize <mode>', 'how images are fitted to the input')
        .choices(['stretch', 'letterbox'])
        .default('stretch'),
    )
    .addOption(
      new Option(
        '--rendering <mode>',
        'grey levels after the resize: as-decoded, or equalized (histogram equalisation: robust to contrast, brightness, gamma and window differences)',
      )
        .choices(['as-decoded', 'equalized'])
        .default('as-decoded'),
    )
    .option(
      '--low-pass-sigma <px>',
      `Gaussian blur of the model input after the resize, sigma in input pixels (${LOW_PASS_SIGMA_RANGE.min}-${LOW_PASS_SIGMA_RANGE.max}): damps pixel noise so that a noisier detector does not flip the label`,
    )
    .option('--input-size <n>', 'run the (fully convolutional) backbone at this square input size instead of its own')
    .option('--backbone-name <text>', 'backbone description for the model card', 'pretrained backbone')
    .option('--name <name>', 'model name', 'bodypart')
    .option('--model-version <version>', 'model version', '1.0.0')
    .option(
      '--validation-fraction <f>',
      'share of patients held out for validation',
      String(DEFAULT_TRAINING.validationFraction),
    )
    .option('--seed <n>', 'seed for the split, augmentation and initialisation', String(DEFAULT_TRAINING.seed))
    .option('--augmented-copies <n>', 'augmented copies per training image', String(DEFAULT_TRAINING.augmentedCopies))
    .addOption(
      new Option(
        '--photometric <ranges>',
        'photometric augmentation of the augmented copies (contrast, brightness, gamma, window, min-max vs VOI-clipped rendering, blur, noise): default or wide = the ranges in docs/training.md',
      )
        .choices(['none', ...Object.keys(PHOTOMETRIC_PRESETS)])
        .default('none'),
    )
    .option(
      '--hidden <units>',
      'hidden Dense units in the head (0 = linear head)',
      String(DEFAULT_TRAINING.head.hiddenUnits),
    )
    .option('--dropout <rate>', 'dropout before the classifier', String(DEFAULT_TRAINING.head.dropout))
    .option('--learning-rate <lr>', 'Adam learning rate', String(DEFAULT_TRAINING.head.learningRate))
    .option('--epochs <n>', 'maximum epochs', String(DEFAULT_TRAINING.head.maxEpochs))
    .option('--patience <n>', 'early stopping patience (epochs)', String(DEFAULT_TRAINING.head.patience))
    .addOption(
      new Option('--class-weighting <mode>', 'class-imbalance weighting')
        .choices(['balanced', 'sqrt', 'none'])
        .default(DEFAULT_TRAINING.classWeighting),
    )
    .option(
      '--fine-tune-from <layer>',
      'after fitting the head, fine-tune the backbone from this layer (e.g. block_14_expand) to --layer with the head; its input activations are cached',
    )
    .option('--fine-tune-epochs <n>', 'maximum fine-tuning epochs', String(DEFAULT_FINE_TUNE.maxEpochs))
    .option(
      '--fine-tune-learning-rate <lr>',
      'Adam learning rate for fine-tuning',
      String(DEFAULT_FINE_TUNE.learningRate),
    )
    .option(
      '--fine-tune-weight-decay <w>',
      'L2 pull of the fine-tuned weights towards the pretrained ones',
      String(DEFAULT_FINE_TUNE.weightDecay),
    )
    .option(
      '--fine-tune-patience <n>',
      'fine-tuning early stopping patience (epochs)',
      String(DEFAULT_FINE_TUNE.patience),
    )
    .addOption(
      new Option(
        '--test-time-augmentation <mode>',
        'hflip = class scores averaged over the image and its left-right mirror, when serving and in the temperature fit and validation figures',
      )
        .choices(['none', ...TEST_TIME_AUGMENTATIONS])
        .default('none'),
    )
    .option(
      '--logit-adjustment <tau>',
      "subtract tau x log(training class prior) from the head's class scores, for a class mix closer to balanced (0.5 with sqrt weighting: about balanced; docs/training.md)",
      '0',
    )
    .option('--cache <dir>', 'feature cache folder', 'var/features')
    .option('--threads <n>', 'wasm threads (default: all cores)')
    .option('--data-description <text>', 'what the training images are, for the model card')
    .option(
      '--attribution <line>',
      'a line of backbone attribution/licence for MODEL_CARD.md (repeatable)',
      (line: string, lines: string[] = []) => [...lines, line],
    )
    .option(
      '--all-images',
      'after the split run (which picks the epochs, the temperature and the out-of-distribution threshold, and gives the card its figures), train again on every image with those epochs and write that model to --out',
    )
    .option('--split-out <dir>', 'with --all-images: where the split run writes its own package', 'var/split-run')
    .action(async (options: TrainOptions) => {
      const config = trainingConfig(options);
      const lowPass = lowPassSigma(options.lowPassSigma);
      const backend = await initTfjsBackend({
        threads: options.threads ? numberOption('threads', options.threads, 1, true) : undefined,
      });
      process.stderr.write(`tfjs backend ${backend.backend}, ${backend.threads} thread(s)\n`);
      const loadBackbone = () =>
        loadTrainingBackbone(options.backbone, {
          layer: options.layer,
          normalization: options.normalization,
          resize: options.resize,
          rendering: options.rendering,
          lowPassSigma: lowPass,
          name: options.backboneName,
          inputSize: options.inputSize ? numberOption('input-size', options.inputSize, 32, true) : undefined,
        });
      const backbone = await loadBackbone();
      const input = {
        imagesDir: options.images,
        labelsCsv: options.labels,
        labels: BODY_PART_LABELS,
        backbone,
        preprocess: servingPreprocess,
        config,
        cacheDir: options.cache,
      };
      const splitProgress = trainingProgress('');
      const result = await trainClassifier({ ...input, onEvent: splitProgress.onEvent });
      splitProgress.stop();
      const seconds: Record<string, number> = { ...result.seconds };
      const splitOut = options.allImages ? options.splitOut : options.out;
      const draft = packageDraft(options, config, backbone, result);
      let started = Date.now();
      const splitOod = await fitOodOnSplit({
        model: result.model,
        featureLayer: HEAD_LAYER_NAMES.pooling,
        spec: backbone.spec,
        imagesDir: options.images,
        labelsCsv: options.labels,
        numClasses: BODY_PART_LABELS.length,
        validationFraction: config.validationFraction,
        seed: config.seed,
        preprocess: servingPreprocess,
        onProgress: progressUpdater('out-of-distribution features'),
      });
      const splitCard = await attachOodModel(
        splitOut,
        await saveModelPackage(splitOut, result.model, draft(result.model)),
        splitOod,
      );
      seconds.ood = (Date.now() - started) / 1000;
      started = Date.now();
      const robustness = await validationRobustness(splitOut, splitCard, options, result.split.validationFiles);
      seconds.robustness = (Date.now() - started) / 1000;
      const withRobustness = (card: ModelCard): ModelCard => ({
        ...card,
        metrics: { validation: { ...(card.metrics?.validation as object), robustness } },
      });
      const run = { config, backend, seconds };
      let shipped = { card: withRobustness(splitCard), dir: splitOut };
      await writePackageRecords(splitOut, shipped.card, result, options, run);
      if (options.allImages) {
        const epochs = { head: result.bestEpoch, fineTune: result.fineTuning?.bestEpoch ?? 0 };
        process.stderr.write(
          `split run written to ${splitOut}; training on every image: head ${epochs.head} epochs, fine-tuning ${epochs.fineTune} epochs\n`,
        );
        const allProgress = trainingProgress('all images: ');
        const all = await trainOnAllImages(
          { ...input, backbone: await loadBackbone(), onEvent: allProgress.onEvent },
          epochs,
        );
        allProgress.stop();
        started = Date.now();
        const ood = await fitPackageOodOnAll({
          model: all.model,
          featureLayer: HEAD_LAYER_NAMES.pooling,
          spec: backbone.spec,
          images: await readLabelsCsv(options.labels, BODY_PART_LABELS.length),
          readImage: async (file) => new Uint8Array(await readFile(join(options.images, file))),
          preprocess: servingPreprocess,
          split: splitOod,
          onProgress: progressUpdater('all images: out-of-distribution features'),
        });
        const base = draft(all.model);
        const card = await attachOodModel(
          options.out,
          await saveModelPackage(options.out, all.model, {
            ...base,
            training: {
              ...base.training,
              allImages: {
                images: all.images,
                patients: all.patients,
                headEpochs: epochs.head,
                fineTuneEpochs: epochs.fineTune,
                splitRunWeightsSha256: splitCard.weightsSha256,
              },
            },
          }),
          ood,
        );
        seconds.allImages = all.seconds.total;
        seconds.allImagesOod = (Date.now() - started) / 1000;
        shipped = { card: withRobustness(card), dir: options.out };
        await writePackageRecords(options.out, shipped.card, result, options, run);
      }
      const v = result.validation;
      process.stdout.write(
        `${shipped.dir}: ${shipped.card.name} ${shipped.card.version} sha256 ${shipped.card.weightsSha256.slice(0, 12)}; split-run validation (${result.split.validationImages} images, ${result.split.validationPatients} patients): top-1 ${(100 * v.top1Accuracy).toFixed(1)}%, macro recall ${(100 * v.macroRecall).toFixed(1)}%, ECE ${v.ece.toFixed(3)} at T=${result.temperature.toFixed(2)}, green ${(100 * v.bands.green.share).toFixed(0)}% of images at ${v.bands.green.accuracy === null ? '-' : (100 * v.bands.green.accuracy).toFixed(1)}% accuracy; label kept under all rendering changes ${(100 * robustness.labelKept).toFixed(1)}%, mean confidence change ${robustness.meanConfidenceChange.toFixed(3)}; out-of-distribution threshold ${shipped.card.ood?.threshold.toFixed(3)}; ${totalSeconds(seconds).toFixed(0)} s\n`,
      );
    });
}

/** Progress of one training (features, head steps, fine-tuning steps) on the terminal. */
function trainingProgress(prefix: string): { onEvent: (event: TrainingEvent) => void; stop(): void } {
  const features = progressDisplay(`${prefix}features`);
  const steps = progressDisplay(`${prefix}training`);
  const fineTuneSteps = progressDisplay(`${prefix}fine-tuning`);
  let lastValidation = '';
  const onEvent = (event: TrainingEvent) => {
    if (event.phase === 'features') features.update(event.done, event.total);
    if (event.phase === 'step' || event.phase === 'fine-tune-step') {
      if (event.phase === 'step' && event.step === 1) features.stop();
      if (event.phase === 'fine-tune-step' && event.epoch === 1 && event.step === 1) {
        steps.stop();
        lastValidation = '';
      }
      (event.phase === 'step' ? steps : fineTuneSteps).update(
        (event.epoch - 1) * event.steps + event.step,
        event.epochs * event.steps,
        `epoch ${event.epoch} step ${event.step}/${event.steps} loss ${event.loss.toFixed(4)}${lastValidation}`,
      );
    }
    if (event.phase === 'epoch' || event.phase === 'fine-tune-epoch') {
      const validated = Number.isFinite(event.validationLoss);
      lastValidation = validated ? ` val acc ${(100 * event.validationAccuracy).toFixed(1)}%` : '';
      if (!process.stderr.isTTY || (validated && event.best)) {
        process.stderr.write(
          `${prefix}${event.phase === 'epoch' ? 'head' : 'fine-tune'} epoch ${event.epoch}: loss ${event.loss.toFixed(4)}${validated ? ` val loss ${event.validationLoss.toFixed(4)} val acc ${(100 * event.validationAccuracy).toFixed(1)}%${event.best ? ' (best)' : ''}` : ''} ${event.seconds.toFixed(1)}s\n`,
        );
      }
    }
  };
  return {
    onEvent,
    stop() {
      features.stop();
      steps.stop();
      fineTuneSteps.stop();
    },
  };
}

function progressUpdater(title: string): (done: number, total: number) => void {
  const display = progressDisplay(title);
  return (done, total) => {
    display.update(done, total);
    if (done >= total) display.stop();
  };
}

/** The model card of a network trained with these options; figures are always the split run's. */
function packageDraft(
  options: TrainOptions,
  config: TrainingConfig,
  backbone: Pick<TrainingBackbone, 'id' | 'spec'>,
  result: TrainingResult,
): (model: tf.LayersModel) => ModelCardDraft {
  const v = result.validation;
  return (model) => ({
    name: options.name,
    version: options.modelVersion,
    architecture: `${options.backboneName}${config.fineTune ? ` fine-tuned from ${config.fineTune.fromLayer}` : ''} cut at ${options.layer} + GlobalAveragePooling2D + ${config.head.hiddenUnits > 0 ? `Dense(${config.head.hiddenUnits}, relu) + ` : ''}Dense(${BODY_PART_LABELS.length}, softmax)`,
    preprocessing: backbone.spec,
    labels: [...BODY_PART_LABELS],
    // DenseNet201 explains at conv5_block30_concat (the seed's choice) rather than the cut layer.
    gradcam: { targetLayer: knownTargetLayer(model.layers.map((l) => l.name)) ?? options.layer },
    bands: config.bands,
    temperature: result.temperature,
    ...(config.testTimeAugmentation ? { testTimeAugmentation: config.testTimeAugmentation } : {}),
    training: {
      data: {
        description: options.dataDescription,
        images: options.images,
        labels: options.labels,
        count: result.split.trainImages + result.split.validationImages,
      },
      backbone: options.backboneName,
      backboneSha256: backbone.id,
      split: {
        trainImages: result.split.trainImages,
        validationImages: result.split.validationImages,
        trainPatients: result.split.trainPatients,
        validationPatients: result.split.validationPatients,
        groupedBy: 'PatientID',
        stratifiedBy: "each patient's rarest class",
        validationFraction: config.validationFraction,
        seed: config.seed,
      },
      augmentation: config.augmentation,
      augmentedCopies: config.augmentedCopies,
      head: config.head,
      classWeighting: config.classWeighting,
      ...(config.logitAdjustment ? { logitAdjustment: config.logitAdjustment } : {}),
      epochsRun: result.epochsRun,
      bestEpoch: result.bestEpoch,
      ...(config.fineTune
        ? {
            fineTune: config.fineTune,
            fineTuneEpochsRun: result.fineTuning?.epochsRun,
            fineTuneBestEpoch: result.fineTuning?.bestEpoch,
          }
        : {}),
    },
    metrics: {
      validation: {
        top1Accuracy: v.top1Accuracy,
        macroRecall: v.macroRecall,
        intervals: v.intervals,
        ece: v.ece,
        uncalibratedEce: v.uncalibratedEce,
        nll: v.nll,
        bands: v.bands,
        perClass: v.perClass,
      },
    },
  });
}

/** Label and confidence stability of the split-run package on its validation images (xray evaluate's check). */
async function validationRobustness(
  dir: string,
  card: ModelCard,
  options: TrainOptions,
  validationFiles: string[],
): Promise<RobustnessReport> {
  const engine = await createTfjsEngine(dir, { card, logger: { info: () => undefined } });
  try {
    const report = await evaluateModel(engine, {
      imagesDir: options.images,
      labelsCsv: options.labels,
      only: new Set(validationFiles),
      preprocess: servingPreprocess,
      onProgress: progressUpdater('robustness on validation'),
    });
    if (!report.robustness) throw new Error('evaluation returned no robustness report');
    return report.robustness;
  } finally {
    await engine.dispose();
  }
}

function totalSeconds(seconds: Record<string, number>): number {
  return Object.entries(seconds)
    .filter(([phase]) => phase !== 'total')
    .reduce((sum, [, value]) => sum + value, 0);
}

/** model-card.json (final), training.json, metrics.json and MODEL_CARD.md of a written package. */
async function writePackageRecords(
  dir: string,
  card: ModelCard,
  result: TrainingResult,
  options: TrainOptions,
  run: { config: TrainingConfig; seconds: Record<string, number>; backend: { backend: string; threads: number } },
): Promise<void> {
  const seconds = { ...run.seconds, total: totalSeconds(run.seconds) };
  await writeFile(join(dir, MODEL_CARD_JSON), `${JSON.stringify(card, null, 2)}\n`);
  await writeFile(
    join(dir, 'training.json'),
    `${JSON.stringify({ options, config: run.config, backend: run.backend, split: { ...result.split, validationFiles: undefined }, history: result.history, fineTuneStart: result.fineTuning?.start, fineTuneHistory: result.fineTuning?.history, seconds }, null, 2)}\n`,
  );
  await writeFile(
    join(dir, 'metrics.json'),
    `${JSON.stringify({ validation: { ...result.validation, temperature: result.temperature, robustness: (card.metrics?.validation as { robustness?: unknown })?.robustness } }, null, 2)}\n`,
  );
  const command = [
    'npx xray',
    ...process.argv.slice(2).map((arg) => (/^[\w./:=@-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)),
  ].join(' ');
  await writeFile(
    join(dir, 'MODEL_CARD.md'),
    renderModelCardMarkdown({
      card,
      validation: result.validation,
      trainCounts: result.trainClassCounts,
      command,
      outDir: dir,
      wallSeconds: seconds.total,
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'CPU'} (tfjs ${run.backend.backend}, ${run.backend.threads} threads)`,
      attribution: options.attribution ?? [],
    }),
  );
}
