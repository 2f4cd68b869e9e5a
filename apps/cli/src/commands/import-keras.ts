import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { initTfjsBackend } from '@xray/ml';
import { importKeras, parseLabels, type KerasImportOptions } from '@xray/model-tools';
import type { Normalization, ResizeMode } from '@xray/shared';

interface ImportOptions {
  out: string;
  labels?: string;
  targetLayer?: string;
  animationLayers?: string;
  name?: string;
  modelVersion?: string;
  normalization: Normalization;
  resize: ResizeMode;
  temperature?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('import-keras')
    .description('Convert a Keras 2 HDF5 (.h5) or Keras 3 (.keras) model into a model package (no Python needed).')
    .argument('<model>', 'the .h5 or .keras file')
    .requiredOption('--out <dir>', 'folder to write the model package to')
    .option(
      '--labels <file>',
      'class names, one per line in output order ("0 Abdomen" lines are fine); default: the 22 body parts',
    )
    .option('--target-layer <name>', 'Grad-CAM++ layer (default: the last convolutional activation)')
    .option(
      '--animation-layers <names>',
      'comma-separated layers for `xray explain --animate` (default for DenseNet201: conv3_block12_concat,conv4_block48_concat,conv5_block32_concat)',
    )
    .option('--name <name>', 'model name for the card (default: the file name)')
    .option('--model-version <version>', 'model version for the card', '1.0.0')
    .option(
      '--normalization <kind>',
      'input scaling the model was trained with: minus1to1 (x/127.5-1), zero1 (x/255) or imagenet',
      'minus1to1',
    )
    .option('--resize <mode>', 'how images were resized for training: stretch or letterbox', 'stretch')
    .option('--temperature <t>', 'softmax temperature for calibration (default 1)')
    .option('--json', 'print the model card as JSON')
    .action(async (file: string, options: ImportOptions) => {
      const importOptions: KerasImportOptions = {
        labels: options.labels ? parseLabels(await readFile(options.labels, 'utf8')) : undefined,
        targetLayer: options.targetLayer,
        animationLayers: options.animationLayers
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        name: options.name,
        version: options.modelVersion,
        normalization: options.normalization,
        resize: options.resize,
        temperature: options.temperature === undefined ? undefined : Number(options.temperature),
      };
      await initTfjsBackend();
      const card = await importKeras(file, options.out, importOptions);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(card)}\n`);
      } else {
        const p = card.preprocessing;
        process.stdout.write(
          `wrote ${options.out}: ${card.name} ${card.version}, ${card.labels.length} classes, input ${p.height}x${p.width}x${p.channels} (${p.normalization}, ${p.resize}), ` +
            `Grad-CAM++ at ${card.gradcam.targetLayer}, weights sha256 ${card.weightsSha256.slice(0, 12)}\n`,
        );
      }
    });
}
