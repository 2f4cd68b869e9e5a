import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isXrayError } from '@xray/shared';
import { type InferenceEngine, OUT_OF_DISTRIBUTION } from '@xray/ml';
import { readLabelsCsv } from './dataset';
import type { Preprocess } from './features';
import { bootstrapIntervals, type ConfidenceIntervals } from './intervals';
import { evaluatePredictions, type EvaluationMetrics } from './metrics';
import { type Perturbation, robustnessMetrics, type RobustnessReport, ROBUSTNESS_PERTURBATIONS } from './robustness';

/** The JSON document `xray evaluate --json` prints (schema in docs/training.md). */
export interface EvaluationReport {
  model: { name: string; version: string; weightsSha256: string; temperature: number };
  images: { listed: number; evaluated: number; failed: { file: string; error: { code: string; message: string } }[] };
  metrics: EvaluationMetrics;
  /** 95 % patient-bootstrap intervals of top-1 accuracy and macro recall. */
  intervals: ConfidenceIntervals;
  /** Label and confidence stability under a fixed set of rendering changes (absent with robustness off). */
  robustness?: RobustnessReport;
  /** Images with the out-of-distribution warning (absent when the package has no OOD model). */
  outOfDistribution?: { warning: string; threshold: number; flagged: number; share: number; files: string[] };
  timing: { msPerImage: number; msPerImagePreprocess: number; msPerImageModel: number };
}

/**
 * Evaluates a model on labelled images through the serving path: file bytes -> preprocess
 * (decodeImage -> toModelInput with the card's spec) -> engine.classify (temperature applied).
 * Files that fail to decode are listed with their error and left out of the metrics.
 */
export async function evaluateModel(
  engine: InferenceEngine,
  options: {
    imagesDir: string;
    labelsCsv: string;
    preprocess: Preprocess;
    batchSize?: number;
    /** Evaluate only these files of the CSV (e.g. a split's validation images); default all. */
    only?: ReadonlySet<string>;
    /** Rendering changes to measure robustness under (default: ROBUSTNESS_PERTURBATIONS; [] = skip). */
    perturbations?: readonly Perturbation[];
    onProgress?: (done: number, total: number) => void;
  },
): Promise<EvaluationReport> {
  const listed = await readLabelsCsv(options.labelsCsv, engine.card.labels.length);
  const rows = options.only ? listed.filter((row) => options.only?.has(row.file)) : listed;
  const batchSize = options.batchSize ?? 8;
  const probabilities: Float32Array[] = [];
  const labels: number[][] = [];
  const patientIds: string[] = [];
  const perturbations = options.perturbations ?? ROBUSTNESS_PERTURBATIONS;
  const perturbed: number[][][] = perturbations.map(() => []);
  const oodScores: { file: string; flagged: boolean }[] = [];
  let threshold = NaN;
  const failed: EvaluationReport['images']['failed'] = [];
  let preprocessMs = 0;
  let modelMs = 0;
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch: { bytes: Uint8Array; input: Float32Array; labels: number[]; patientId: string; file: string }[] = [];
    const preprocessStart = performance.now();
    for (const row of rows.slice(start, start + batchSize)) {
      try {
        const file = await readFile(join(options.imagesDir, row.file));
        const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
        batch.push({
          bytes,
          input: await options.preprocess(bytes, engine.card.preprocessing),
          labels: row.labels,
          patientId: row.patientId,
          file: row.file,
        });
      } catch (error) {
        const code = isXrayError(error)
          ? error.code
          : (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'NOT_FOUND'
            : 'INTERNAL';
        failed.push({
          file: row.file,
          error: { code, message: error instanceof Error ? error.message : String(error) },
        });
      }
    }
    const modelStart = performance.now();
    preprocessMs += modelStart - preprocessStart;
    if (batch.length > 0) {
      const results = await engine.classify(batch.map((item) => item.input));
      results.forEach((result, index) => {
        probabilities.push(Float32Array.from(result.probabilities));
        labels.push(batch[index].labels);
        patientIds.push(batch[index].patientId);
        if (result.ood) {
          threshold = result.ood.threshold;
          oodScores.push({ file: batch[index].file, flagged: result.ood.outOfDistribution });
        }
      });
    }
    modelMs += performance.now() - modelStart;
    // Robustness runs are not part of the timing: they are extra work, not what serving does.
    for (const [p, perturbation] of perturbations.entries()) {
      if (batch.length === 0) break;
      const spec = engine.card.preprocessing;
      const inputs = await Promise.all(batch.map((item) => options.preprocess(item.bytes, spec, perturbation.params)));
      const results = await engine.classify(inputs);
      for (const result of results) perturbed[p].push(result.probabilities);
    }
    options.onProgress?.(Math.min(rows.length, start + batchSize), rows.length);
  }
  const evaluated = probabilities.length;
  const perImage = (ms: number) => (evaluated > 0 ? ms / evaluated : 0);
  return {
    model: {
      name: engine.card.name,
      version: engine.card.version,
      weightsSha256: engine.card.weightsSha256,
      temperature: engine.card.temperature ?? 1,
    },
    images: { listed: rows.length, evaluated, failed },
    metrics: evaluatePredictions(probabilities, labels, engine.card.labels, engine.card.bands),
    intervals: bootstrapIntervals(probabilities, labels, patientIds, engine.card.labels.length),
    ...(perturbations.length > 0
      ? {
          robustness: robustnessMetrics(
            probabilities,
            perturbed,
            perturbations.map((p) => p.name),
            engine.card.bands,
          ),
        }
      : {}),
    ...(oodScores.length > 0
      ? {
          outOfDistribution: {
            warning: OUT_OF_DISTRIBUTION,
            threshold,
            flagged: oodScores.filter((s) => s.flagged).length,
            share: oodScores.filter((s) => s.flagged).length / oodScores.length,
            files: oodScores.filter((s) => s.flagged).map((s) => s.file),
          },
        }
      : {}),
    timing: {
      msPerImage: perImage(preprocessMs + modelMs),
      msPerImagePreprocess: perImage(preprocessMs),
      msPerImageModel: perImage(modelMs),
    },
  };
}
