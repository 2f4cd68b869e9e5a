import type { Command } from 'commander';
import { BODY_PART_LABELS, XrayError } from '@xray/shared';
import { initTfjsBackend, loadModelPackage } from '@xray/ml';
import { attachOodModel, DEFAULT_OOD_FIT, DEFAULT_TRAINING, fitOodOnSplit, HEAD_LAYER_NAMES } from '@xray/model-tools';
import { numberOption } from './train';
import { progressDisplay } from './progress-display';
import { servingPreprocess } from './serving-model';

interface FitOodOptions {
  model: string;
  images: string;
  labels: string;
  validationFraction?: string;
  seed?: string;
  components: string;
  shrinkage: string;
  targetShare: string;
  featureLayer: string;
}

export function register(program: Command): void {
  program
    .command('fit-ood')
    .description(
      "Fit a model package's out-of-distribution warning (Mahalanobis distance of the pooled features) on its training split; `xray train` does this itself.",
    )
    .requiredOption('--model <dir>', 'model package folder')
    .requiredOption('--images <dir>', 'folder of the images named in the labels CSV')
    .requiredOption('--labels <csv>', 'the labels CSV the model was trained with')
    .option('--validation-fraction <f>', "validation share of patients (default: the card's training split)")
    .option('--seed <n>', "split seed (default: the card's training split)")
    .option('--feature-layer <name>', 'the pooled-feature layer before the classifier', HEAD_LAYER_NAMES.pooling)
    .option('--components <n>', 'covariance eigenvectors kept', String(DEFAULT_OOD_FIT.components))
    .option('--shrinkage <s>', 'shrinkage of the variances towards their mean (0-1)', String(DEFAULT_OOD_FIT.shrinkage))
    .option(
      '--target-share <f>',
      'share of validation images above the threshold',
      String(DEFAULT_OOD_FIT.targetValidationShare),
    )
    .action(async (options: FitOodOptions) => {
      await initTfjsBackend();
      const pkg = await loadModelPackage(options.model);
      try {
        if (!pkg.model.layers.some((layer) => layer.name === options.featureLayer)) {
          throw new XrayError(
            'VALIDATION_FAILED',
            `${options.model} has no layer "${options.featureLayer}"; pass --feature-layer (the pooled features before the classifier)`,
          );
        }
        const split = (pkg.card.training?.split ?? {}) as { validationFraction?: number; seed?: number };
        const progress = progressDisplay('features');
        const fit = await fitOodOnSplit({
          model: pkg.model,
          featureLayer: options.featureLayer,
          spec: pkg.card.preprocessing,
          imagesDir: options.images,
          labelsCsv: options.labels,
          numClasses: BODY_PART_LABELS.length,
          validationFraction: options.validationFraction
            ? numberOption('validation-fraction', options.validationFraction, 0.01)
            : (split.validationFraction ?? DEFAULT_TRAINING.validationFraction),
          seed: options.seed ? numberOption('seed', options.seed, 0, true) : (split.seed ?? DEFAULT_TRAINING.seed),
          preprocess: servingPreprocess,
          config: {
            components: numberOption('components', options.components, 1, true),
            shrinkage: numberOption('shrinkage', options.shrinkage, 0),
            targetValidationShare: numberOption('target-share', options.targetShare, 0),
          },
          onProgress: (done, total) => progress.update(done, total),
        });
        progress.stop();
        const card = await attachOodModel(options.model, pkg.card, fit);
        process.stdout.write(`${JSON.stringify(card.ood)}\n`);
        if (card.onnx?.model) {
          process.stdout.write('run `xray export-onnx --model DIR` again: the ONNX graph must output the features\n');
        }
      } finally {
        pkg.model.dispose();
      }
    });
}
