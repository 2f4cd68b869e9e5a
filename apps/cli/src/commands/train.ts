import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { BODY_PART_LABELS, type Normalization, type ResizeMode, XrayError } from '@xray/shared';
import {
  initTfjsBackend,
  knownTargetLayer,
  saveModelPackage,
  TEST_TIME_AUGMENTATIONS,
  type TestTimeAugmentation,
} from '@xray/ml';
import {
  DEFAULT_FINE_TUNE,
  attachOodModel,
  DEFAULT_PHOTOMETRIC,
  DEFAULT_TRAINING,
  fitOodOnSplit,
  HEAD_LAYER_NAMES,
  loadTrainingBackbone,
  renderModelCardMarkdown,
  trainClassifier,
  type ClassWeighting,
  type TrainingConfig,
  type TrainingEvent,
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

function trainingConfig(options: TrainOptions): TrainingConfig {
  return {
    ...DEFAULT_TRAINING,
    validationFraction: numberOption('validation-fraction', options.validationFraction, 0.01),
    seed: numberOption('seed', options.seed, 0, true),
    augmentedCopies: numberOption('augmented-copies', options.augmentedCopies, 0, true),
    augmentation: {
      ...DEFAULT_TRAINING.augmentation,
      ...(options.photometric === 'default' ? { photometric: DEFAULT_PHOTOMETRIC } : {}),
    },
    classWeighting: options.classWeighting,
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
  backboneName: string;
  name: string;
  modelVersion: string;
  validationFraction: string;
  seed: string;
  augmentedCopies: string;
  photometric: 'none' | 'default';
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
  testTimeAugmentation: 'none' | TestTimeAugmentation;
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
        'photometric augmentation of the augmented copies (contrast, brightness, gamma, window, min-max vs VOI-clipped rendering, blur, noise): default = the ranges in docs/training.md',
      )
        .choices(['none', 'default'])
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
        'recorded in the card for serving: hflip = class scores averaged over the image and its left-right mirror (training and its validation figures are unchanged)',
      )
        .choices(['none', ...TEST_TIME_AUGMENTATIONS])
        .default('none'),
    )
    .option('--cache <dir>', 'feature cache folder', 'var/features')
    .option('--threads <n>', 'wasm threads (default: all cores)')
    .option('--data-description <text>', 'what the training images are, for the model card')
    .option(
      '--attribution <line>',
      'a line of backbone attribution/licence for MODEL_CARD.md (repeatable)',
      (line: string, lines: string[] = []) => [...lines, line],
    )
    .action(async (options: TrainOptions) => {
      const config = trainingConfig(options);
      const backend = await initTfjsBackend({
        threads: options.threads ? numberOption('threads', options.threads, 1, true) : undefined,
      });
      process.stderr.write(`tfjs backend ${backend.backend}, ${backend.threads} thread(s)\n`);
      const backbone = await loadTrainingBackbone(options.backbone, {
        layer: options.layer,
        normalization: options.normalization,
        resize: options.resize,
        name: options.backboneName,
        inputSize: options.inputSize ? numberOption('input-size', options.inputSize, 32, true) : undefined,
      });
      const features = progressDisplay('features');
      const steps = progressDisplay('training');
      const fineTuneSteps = progressDisplay('fine-tuning');
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
          lastValidation = ` val acc ${(100 * event.validationAccuracy).toFixed(1)}%`;
          if (!process.stderr.isTTY || event.best) {
            process.stderr.write(
              `${event.phase === 'epoch' ? 'head' : 'fine-tune'} epoch ${event.epoch}: loss ${event.loss.toFixed(4)} val loss ${event.validationLoss.toFixed(4)} val acc ${(100 * event.validationAccuracy).toFixed(1)}%${event.best ? ' (best)' : ''} ${event.seconds.toFixed(1)}s\n`,
            );
          }
        }
      };
      const result = await trainClassifier({
        imagesDir: options.images,
        labelsCsv: options.labels,
        labels: BODY_PART_LABELS,
        backbone,
        preprocess: servingPreprocess,
        config,
        cacheDir: options.cache,
        onEvent,
      });
      steps.stop();
      fineTuneSteps.stop();
      const v = result.validation;
      const summary = {
        top1Accuracy: v.top1Accuracy,
        macroRecall: v.macroRecall,
        intervals: v.intervals,
        ece: v.ece,
        uncalibratedEce: v.uncalibratedEce,
        nll: v.nll,
        bands: v.bands,
        perClass: v.perClass,
      };
      const saved = await saveModelPackage(options.out, result.model, {
        name: options.name,
        version: options.modelVersion,
        architecture: `${options.backboneName}${config.fineTune ? ` fine-tuned from ${config.fineTune.fromLayer}` : ''} cut at ${options.layer} + GlobalAveragePooling2D + ${config.head.hiddenUnits > 0 ? `Dense(${config.head.hiddenUnits}, relu) + ` : ''}Dense(${BODY_PART_LABELS.length}, softmax)`,
        preprocessing: backbone.spec,
        labels: [...BODY_PART_LABELS],
        // DenseNet201 explains at conv5_block30_concat (the seed's choice) rather than the cut layer.
        gradcam: { targetLayer: knownTargetLayer(result.model.layers.map((l) => l.name)) ?? options.layer },
        bands: config.bands,
        temperature: result.temperature,
        ...(options.testTimeAugmentation === 'none' ? {} : { testTimeAugmentation: options.testTimeAugmentation }),
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
            ...result.split,
            groupedBy: 'PatientID',
            stratifiedBy: "each patient's rarest class",
            validationFraction: config.validationFraction,
            seed: config.seed,
          },
          augmentation: config.augmentation,
          augmentedCopies: config.augmentedCopies,
          head: config.head,
          classWeighting: config.classWeighting,
          epochsRun: result.epochsRun,
          bestEpoch: result.bestEpoch,
          ...(config.fineTune
            ? {
                fineTune: config.fineTune,
                fineTuneEpochsRun: result.fineTuning?.epochsRun,
                fineTuneBestEpoch: result.fineTuning?.bestEpoch,
              }
            : {}),
          wallSeconds: result.seconds,
        },
        metrics: { validation: summary },
      });
      const oodStarted = Date.now();
      const oodProgress = progressDisplay('out-of-distribution features');
      const card = await attachOodModel(
        options.out,
        saved,
        await fitOodOnSplit({
          model: result.model,
          featureLayer: HEAD_LAYER_NAMES.pooling,
          spec: backbone.spec,
          imagesDir: options.images,
          labelsCsv: options.labels,
          numClasses: BODY_PART_LABELS.length,
          validationFraction: config.validationFraction,
          seed: config.seed,
          preprocess: servingPreprocess,
          onProgress: (done, total) => oodProgress.update(done, total),
        }),
      );
      oodProgress.stop();
      const seconds = { ...result.seconds, ood: (Date.now() - oodStarted) / 1000 };
      seconds.total += seconds.ood;
      await writeFile(
        join(options.out, 'training.json'),
        `${JSON.stringify({ options, config, backend, split: result.split, history: result.history, fineTuneStart: result.fineTuning?.start, fineTuneHistory: result.fineTuning?.history, seconds }, null, 2)}\n`,
      );
      await writeFile(
        join(options.out, 'metrics.json'),
        `${JSON.stringify({ validation: { ...v, temperature: result.temperature } }, null, 2)}\n`,
      );
      const command = [
        'npx xray',
        ...process.argv.slice(2).map((arg) => (/^[\w./:=@-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)),
      ].join(' ');
      await writeFile(
        join(options.out, 'MODEL_CARD.md'),
        renderModelCardMarkdown({
          card,
          validation: v,
          trainCounts: result.trainClassCounts,
          command,
          outDir: options.out,
          wallSeconds: seconds.total,
          machine: `${cpus().length} x ${cpus()[0]?.model ?? 'CPU'} (tfjs ${backend.backend}, ${backend.threads} threads)`,
          attribution: options.attribution ?? [],
        }),
      );
      process.stdout.write(
        `${options.out}: ${card.name} ${card.version} sha256 ${card.weightsSha256.slice(0, 12)}; validation (${result.split.validationImages} images, ${result.split.validationPatients} patients): top-1 ${(100 * v.top1Accuracy).toFixed(1)}%, macro recall ${(100 * v.macroRecall).toFixed(1)}%, ECE ${v.ece.toFixed(3)} at T=${result.temperature.toFixed(2)}, green ${(100 * v.bands.green.share).toFixed(0)}% of images at ${v.bands.green.accuracy === null ? '-' : (100 * v.bands.green.accuracy).toFixed(1)}% accuracy; out-of-distribution threshold ${card.ood?.threshold.toFixed(3)}; ${seconds.total.toFixed(0)} s\n`,
      );
    });
}
