/**
 * What changes at inference time, without retraining, buy on the robustness check and accuracy.
 * For a split-run package (`xray train` without `--all-images`), every validation image is
 * rendered clean and under each of `ROBUSTNESS_PERTURBATIONS`, and each rendering is classified
 * through several views: the card's own input and stronger low-pass filters, each plain and
 * mirrored. Each candidate averages some views' class scores in log space, optionally with logit
 * adjustment (Menon et al. 2021: minus tau x log of the training images' class prior, for a
 * class mix closer to balanced), refits the temperature on the clean validation images and
 * reports what `xray evaluate` would (top-1, macro recall, labels kept, mean confidence change).
 * Results in docs/training.md.
 *
 *   node -r @swc-node/register bench/training/inference-adjustments.ts --model SPLIT-RUN-PACKAGE [--cache var/inference-views.json, delete it after retraining]
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, toModelInput } from '@xray/imaging';
import { calibratedSoftmax, initTfjsBackend, loadModelPackage, mirrorHorizontally } from '@xray/ml';
import {
  bootstrapIntervals,
  classCounts,
  DEFAULT_TRAINING,
  evaluatePredictions,
  fitTemperature,
  groupedSplit,
  logClassPrior,
  type LabelledImage,
  type PhotometricParams,
  perturbRendering,
  readLabelsCsv,
  robustnessMetrics,
  ROBUSTNESS_PERTURBATIONS,
  type Split,
} from '@xray/model-tools';
import { BODY_PART_LABELS } from '@xray/shared';
import { sharedPath } from '@xray/testing';

interface View {
  name: string;
  lowPassSigma?: number;
  mirror: boolean;
}

const BASE_VIEWS: Omit<View, 'mirror'>[] = [
  { name: 'card' },
  { name: 'low-pass 1.5', lowPassSigma: 1.5 },
  { name: 'low-pass 2', lowPassSigma: 2 },
];
const VIEWS: View[] = BASE_VIEWS.flatMap((view) => [
  { ...view, mirror: false },
  { ...view, name: `${view.name} mirrored`, mirror: true },
]);

/** Candidates: the views whose log scores are averaged, and the logit adjustment's tau (0 = none). */
const SERVED = ['card', 'card mirrored'];
const CANDIDATES: { views: string[]; tau: number }[] = [
  ...[
    ['card'],
    SERVED,
    [...SERVED, 'low-pass 1.5', 'low-pass 1.5 mirrored'],
    [...SERVED, 'low-pass 2', 'low-pass 2 mirrored'],
    [...SERVED, 'low-pass 1.5'],
    [...SERVED, 'low-pass 2'],
    ['low-pass 1.5', 'low-pass 1.5 mirrored'],
    VIEWS.map((view) => view.name),
  ].map((views) => ({ views, tau: 0 })),
  ...[0.25, 0.5, 0.75, 1].map((tau) => ({ views: SERVED, tau })),
];

/** logScores[rendering][image][view] = log class probabilities (rendering 0 = clean). */
type ViewScores = number[][][][];

/** The split `xray train` makes of the UNIFESP images (patient-grouped, seed 42). */
async function readSplit(): Promise<Split> {
  const rows = await readLabelsCsv(sharedPath('data/unifesp/labels.csv'), BODY_PART_LABELS.length);
  return groupedSplit(rows, DEFAULT_TRAINING.validationFraction, DEFAULT_TRAINING.seed);
}

async function computeViewScores(
  modelDir: string,
  validation: LabelledImage[],
): Promise<{ files: string[]; labels: number[][]; patients: string[]; scores: ViewScores }> {
  const backend = await initTfjsBackend();
  process.stderr.write(`tfjs ${backend.backend}, ${backend.threads} thread(s)\n`);
  const pkg = await loadModelPackage(modelDir);
  const spec = pkg.card.preprocessing;
  const imagesDir = sharedPath('data/unifesp/images');
  const renderings: (PhotometricParams | undefined)[] = [undefined, ...ROBUSTNESS_PERTURBATIONS.map((p) => p.params)];
  const scores: ViewScores = renderings.map(() => []);
  for (const [i, row] of validation.entries()) {
    const decoded = await decodeImage(new Uint8Array(await readFile(join(imagesDir, row.file))));
    for (const [r, change] of renderings.entries()) {
      const rendered = change
        ? { ...decoded, pixels: perturbRendering(decoded.pixels, decoded.width, decoded.height, change) }
        : decoded;
      const inputs: Float32Array[] = [];
      for (const view of VIEWS) {
        const input = await toModelInput(rendered, { ...spec, lowPassSigma: view.lowPassSigma ?? spec.lowPassSigma });
        inputs.push(view.mirror ? mirrorHorizontally(input, spec) : input);
      }
      const batch = new Float32Array(inputs.length * inputs[0].length);
      inputs.forEach((input, v) => batch.set(input, v * input.length));
      const output = tf.tidy(() =>
        tf.log(
          tf.maximum(
            pkg.model.predict(tf.tensor4d(batch, [inputs.length, spec.height, spec.width, spec.channels])) as tf.Tensor,
            1e-30,
          ),
        ),
      );
      scores[r].push((await output.array()) as number[][]);
      output.dispose();
    }
    if ((i + 1) % 20 === 0 || i + 1 === validation.length)
      process.stderr.write(`views ${i + 1}/${validation.length}\n`);
  }
  return {
    files: validation.map((row) => row.file),
    labels: validation.map((row) => row.labels),
    patients: validation.map((row) => row.patientId),
    scores,
  };
}

function report(data: Awaited<ReturnType<typeof computeViewScores>>, logPrior: number[]): void {
  const labelsCount = BODY_PART_LABELS.length;
  const names = VIEWS.map((view) => view.name);
  const meanLogits = (perView: number[][], chosen: number[], tau: number) =>
    perView[0].map((_, k) => chosen.reduce((sum, v) => sum + perView[v][k], 0) / chosen.length - tau * logPrior[k]);
  for (const candidate of CANDIDATES) {
    const chosen = candidate.views.map((name) => names.indexOf(name));
    const logits = data.scores.map((images) => images.map((perView) => meanLogits(perView, chosen, candidate.tau)));
    const temperature = fitTemperature(
      logits[0].map((z) => calibratedSoftmax(z)),
      data.labels,
    );
    const probabilities = logits.map((images) => images.map((z) => calibratedSoftmax(z, temperature)));
    const metrics = evaluatePredictions(probabilities[0], data.labels, BODY_PART_LABELS, DEFAULT_TRAINING.bands);
    const intervals = bootstrapIntervals(probabilities[0], data.labels, data.patients, labelsCount);
    const robustness = robustnessMetrics(
      probabilities[0],
      probabilities.slice(1),
      ROBUSTNESS_PERTURBATIONS.map((p) => p.name),
    );
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    console.log(
      [
        `${candidate.views.length} views [${candidate.views.join(', ')}]${candidate.tau ? `, logit adjustment tau ${candidate.tau}` : ''}, T ${temperature.toFixed(3)}`,
        `  top-1 ${pct(metrics.top1Accuracy)} (${pct(intervals.top1Accuracy.low)}-${pct(intervals.top1Accuracy.high)}), macro recall ${pct(metrics.macroRecall)} (${pct(intervals.macroRecall.low)}-${pct(intervals.macroRecall.high)}), ECE ${metrics.ece.toFixed(3)}, green ${pct(metrics.bands.green.count / metrics.count)} at ${pct(metrics.bands.green.accuracy ?? 0)}`,
        `  kept ${pct(robustness.labelKept)}, mean confidence change ${robustness.meanConfidenceChange.toFixed(3)}; ${robustness.perPerturbation.map((p) => `${p.name} ${pct(p.labelKept)}/${p.meanConfidenceChange.toFixed(3)}`).join(', ')}`,
      ].join('\n'),
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'var/split-run' },
      cache: { type: 'string', default: 'var/inference-views.json' },
    },
  });
  const split = await readSplit();
  const data = existsSync(values.cache)
    ? JSON.parse(await readFile(values.cache, 'utf8'))
    : await computeViewScores(values.model, split.validation);
  await writeFile(values.cache, JSON.stringify(data));
  report(data, logClassPrior(classCounts(split.train, BODY_PART_LABELS.length)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
