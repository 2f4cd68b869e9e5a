/**
 * Does an ensemble of two backbones pay? For the Teachable Machine MobileNetV2 0.35 @320 and the
 * nsfwjs MobileNetV2 1.0 @224, a frozen backbone + linear head is trained as `xray train` does
 * (no augmented copies, features cached in var/features); each model's temperature-scaled class
 * scores on the validation patients are averaged in log space and the metrics compared, with
 * patient-bootstrap intervals. Frozen heads only: it asks whether the second backbone adds
 * information the first lacks, at the cost of a second forward pass.
 *
 *   node -r @swc-node/register bench/training/ensemble-check.ts
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BODY_PART_LABELS } from '@xray/shared';
import { decodeImage, toModelInput } from '@xray/imaging';
import { calibratedSoftmax, initTfjsBackend } from '@xray/ml';
import {
  bootstrapIntervals,
  DEFAULT_TRAINING,
  evaluatePredictions,
  loadTrainingBackbone,
  readLabelsCsv,
  trainClassifier,
  type TrainingBackboneOptions,
} from '@xray/model-tools';
import { sharedPath } from '@xray/testing';

const CANDIDATES: { source: string; options: TrainingBackboneOptions }[] = [
  {
    source: sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'),
    options: {
      name: 'TM MobileNetV2 0.35 @320',
      layer: 'out_relu',
      normalization: 'minus1to1',
      resize: 'stretch',
      inputSize: 320,
    },
  },
  {
    source: sharedPath('models/nsfwjs-mobilenetv2'),
    options: { name: 'nsfwjs MobileNetV2 1.0 @224', layer: 'out_relu', normalization: 'zero1', resize: 'stretch' },
  },
];

async function main(): Promise<void> {
  await initTfjsBackend();
  const imagesDir = sharedPath('data/unifesp/images');
  const labelsCsv = sharedPath('data/unifesp/labels.csv');
  const rows = new Map((await readLabelsCsv(labelsCsv, 22)).map((row) => [row.file, row]));
  const logOf = (p: ArrayLike<number>) => Array.from(p, (value) => Math.log(Math.max(value, 1e-30)));
  // Per candidate, each validation image's calibrated probabilities.
  const calibrated: number[][][] = [];
  let files: string[] = [];
  for (const candidate of CANDIDATES) {
    const backbone = await loadTrainingBackbone(candidate.source, candidate.options);
    const result = await trainClassifier({
      imagesDir,
      labelsCsv,
      labels: BODY_PART_LABELS,
      backbone,
      preprocess: async (bytes, spec) => toModelInput(await decodeImage(bytes), spec),
      config: { ...DEFAULT_TRAINING, augmentedCopies: 0, head: { ...DEFAULT_TRAINING.head, learningRate: 3e-3 } },
      cacheDir: join('var', 'features'),
    });
    files = result.split.validationFiles;
    const spec = backbone.spec;
    const scores: number[][] = [];
    for (const file of files) {
      const input = await toModelInput(await decodeImage(new Uint8Array(await readFile(join(imagesDir, file)))), spec);
      const output = tf.tidy(() =>
        (result.model.predict(tf.tensor4d(input, [1, spec.height, spec.width, spec.channels])) as tf.Tensor).dataSync(),
      );
      scores.push(calibratedSoftmax(logOf(output), result.temperature));
    }
    calibrated.push(scores);
    report(candidate.options.name, scores);
    result.model.dispose();
  }
  const ensemble = files.map((_, i) => {
    const [first, second] = calibrated.map((scores) => logOf(scores[i]));
    return calibratedSoftmax(first.map((value, k) => (value + second[k]) / 2));
  });
  report('ensemble (mean log-probability)', ensemble);

  function report(name: string, probabilities: number[][]): void {
    const labels = files.map((file) => rows.get(file)!.labels);
    const metrics = evaluatePredictions(probabilities, labels, BODY_PART_LABELS, { green: 0.9, orange: 0.7 });
    const ci = bootstrapIntervals(
      probabilities,
      labels,
      files.map((file) => rows.get(file)!.patientId),
      22,
    );
    console.log(
      `${name.padEnd(34)} top-1 ${(100 * metrics.top1Accuracy).toFixed(1)}% (${(100 * ci.top1Accuracy.low).toFixed(1)}-${(100 * ci.top1Accuracy.high).toFixed(1)})  macro recall ${(100 * metrics.macroRecall).toFixed(1)}% (${(100 * ci.macroRecall.low).toFixed(1)}-${(100 * ci.macroRecall.high).toFixed(1)})  ECE ${metrics.ece.toFixed(3)}`,
    );
  }
}

void main();
