import type { Command } from 'commander';
import { createTfjsEngine } from '@xray/ml';
import { evaluateModel, type EvaluationReport } from '@xray/model-tools';
import { progressDisplay } from './progress-display';
import { DEFAULT_MODEL_DIR, servingPreprocess } from './serving-model';

interface EvaluateOptions {
  model: string;
  images: string;
  labels: string;
  json?: boolean;
  threads?: string;
  robustness: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'Evaluate a model package on labelled images (PNG, JPEG or DICOM): accuracy, recall, calibration, confidence bands, speed.',
    )
    .requiredOption('--images <dir>', 'folder of the images named in the labels CSV')
    .requiredOption('--labels <csv>', 'CSV with columns file and Target (class indices separated by spaces)')
    .option('--model <dir>', 'model package folder', DEFAULT_MODEL_DIR)
    .option('--json', 'print the full report as one JSON document (schema: docs/training.md)')
    .option('--threads <n>', 'wasm threads (default: all cores)')
    .option('--no-robustness', 'skip the robustness check (each image again under 10 fixed rendering changes)')
    .action(async (options: EvaluateOptions) => {
      const engine = await createTfjsEngine(options.model, {
        threads: options.threads ? Number(options.threads) : undefined,
        logger: { info: () => undefined },
      });
      const progress = progressDisplay('evaluate');
      try {
        const report = await evaluateModel(engine, {
          imagesDir: options.images,
          labelsCsv: options.labels,
          preprocess: servingPreprocess,
          ...(options.robustness ? {} : { perturbations: [] }),
          onProgress: (done, total) => progress.update(done, total),
        });
        progress.stop();
        process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report));
      } finally {
        await engine.dispose();
      }
    });
}

function percent(value: number | null): string {
  return value === null ? '   -  ' : `${(100 * value).toFixed(1).padStart(5)}%`;
}

function formatReport(report: EvaluationReport): string {
  const m = report.metrics;
  const lines = [
    `model ${report.model.name} ${report.model.version} (sha256 ${report.model.weightsSha256.slice(0, 12)}, temperature ${report.model.temperature.toFixed(3)})`,
    `images: ${report.images.evaluated} evaluated of ${report.images.listed} listed${report.images.failed.length ? `, ${report.images.failed.length} failed` : ''}`,
    ...report.images.failed.map((f) => `  failed ${f.file}: ${f.error.code} ${f.error.message}`),
    `top-1 accuracy (any label) ${percent(m.top1Accuracy)}   macro recall ${percent(m.macroRecall)}   ECE ${m.ece.toFixed(3)}   NLL ${m.nll.toFixed(3)}`,
    `  ${100 * report.intervals.level} % intervals (bootstrap over ${report.intervals.patients} patients): top-1 ${percent(report.intervals.top1Accuracy.low)} to ${percent(report.intervals.top1Accuracy.high)}, macro recall ${percent(report.intervals.macroRecall.low)} to ${percent(report.intervals.macroRecall.high)}`,
    ...(['green', 'orange', 'red'] as const).map(
      (band) =>
        `  ${band.padEnd(6)} ${percent(m.bands[band].share)} of images, accuracy ${percent(m.bands[band].accuracy)} (${m.bands[band].count})`,
    ),
    `  class              support  precision  recall`,
    ...m.perClass.map(
      (c) =>
        `  ${c.label.padEnd(18)} ${String(c.support).padStart(7)}  ${percent(c.precision)}    ${percent(c.recall)}`,
    ),
    ...robustnessLines(report),
    ...(report.outOfDistribution
      ? [
          `out-of-distribution warning (score > ${report.outOfDistribution.threshold.toFixed(3)}): ${report.outOfDistribution.flagged} images (${percent(report.outOfDistribution.share).trim()})`,
          ...report.outOfDistribution.files.map((file) => `  ${file}`),
        ]
      : []),
    `confusion matrix (rows: reference, columns: predicted; classes in label order)`,
    ...m.confusion.map((row, k) => `  ${String(k).padStart(2)} ${row.map((n) => String(n).padStart(4)).join('')}`),
    `${report.timing.msPerImage.toFixed(1)} ms/image (decode + preprocess ${report.timing.msPerImagePreprocess.toFixed(1)}, model ${report.timing.msPerImageModel.toFixed(1)})`,
  ];
  return `${lines.join('\n')}\n`;
}

function robustnessLines(report: EvaluationReport): string[] {
  const r = report.robustness;
  if (!r) return [];
  return [
    `robustness under ${r.perturbations} fixed rendering changes: label kept on ${percent(r.labelKept).trim()} of images under all of them, mean top-1 confidence change ${r.meanConfidenceChange.toFixed(3)}`,
    ...r.perPerturbation.map(
      (p) =>
        `  ${p.name.padEnd(22)} label kept ${percent(p.labelKept)}   confidence change ${p.meanConfidenceChange.toFixed(3)}`,
    ),
    `  kept under all, by band of the unchanged image: ${(['green', 'orange', 'red'] as const).map((band) => `${band} ${percent(r.byBand[band].labelKept).trim()} of ${r.byBand[band].images}`).join(', ')}`,
  ];
}
