/**
 * Backbone choice for the shipped model, by patient-grouped validation results on ../shared/data/unifesp:
 * for each candidate, the pooled features of the un-augmented images (cached in var/features) and a
 * linear head trained exactly as `xray train` does; prints top-1 / macro recall / ECE per candidate.
 *
 *   node -r @swc-node/register bench/training/compare-backbones.ts [--copies N] [--only NAME-PART]
 *
 * CPU-heavy (one forward pass per image per candidate); not part of `npm test`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BODY_PART_LABELS } from '@xray/shared';
import { decodeImage, toModelInput } from '@xray/imaging';
import { initTfjsBackend } from '@xray/ml';
import {
  DEFAULT_TRAINING,
  loadTrainingBackbone,
  trainClassifier,
  type TrainingBackboneOptions,
} from '@xray/model-tools';
import { sharedPath } from '@xray/testing';

const CANDIDATES: { source: string; options: TrainingBackboneOptions }[] = [
  {
    source: sharedPath('models/nsfwjs-mobilenetv2'),
    options: { name: 'nsfwjs MobileNetV2 1.0 @224', layer: 'out_relu', normalization: 'zero1', resize: 'stretch' },
  },
  {
    source: sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'),
    options: {
      name: 'Teachable Machine MobileNetV2 0.35 (ImageNet) @224',
      layer: 'out_relu',
      normalization: 'minus1to1',
      resize: 'stretch',
    },
  },
  {
    source: sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'),
    options: {
      name: 'Teachable Machine MobileNetV2 0.35 (ImageNet) @320',
      layer: 'out_relu',
      normalization: 'minus1to1',
      resize: 'stretch',
      inputSize: 320,
    },
  },
  {
    source: sharedPath('models/nsfwjs-inceptionv3'),
    options: { name: 'nsfwjs InceptionV3 @299', layer: 'mixed10', normalization: 'zero1', resize: 'stretch' },
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { copies: { type: 'string', default: '0' }, only: { type: 'string', default: '' } },
  });
  const augmentedCopies = Number(values.copies);
  const backend = await initTfjsBackend();
  console.log(`tfjs ${backend.backend}, ${backend.threads} threads; augmented copies ${augmentedCopies}`);
  for (const candidate of CANDIDATES.filter((c) => c.options.name.includes(values.only))) {
    const backbone = await loadTrainingBackbone(candidate.source, candidate.options);
    const result = await trainClassifier({
      imagesDir: sharedPath('data/unifesp/images'),
      labelsCsv: sharedPath('data/unifesp/labels.csv'),
      labels: BODY_PART_LABELS,
      backbone,
      preprocess: async (bytes, spec) => toModelInput(await decodeImage(bytes), spec),
      config: { ...DEFAULT_TRAINING, augmentedCopies, head: { ...DEFAULT_TRAINING.head, learningRate: 3e-3 } },
      cacheDir: join('var', 'features'),
    });
    const v = result.validation;
    console.log(
      `${candidate.options.name.padEnd(52)} top-1 ${(100 * v.top1Accuracy).toFixed(1)}%  macro recall ${(100 * v.macroRecall).toFixed(1)}%  ECE ${v.ece.toFixed(3)}  features ${result.seconds.features.toFixed(0)} s`,
    );
    result.model.dispose();
  }
}

void main();
