import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isXrayError } from '@xray/shared';
import { type InferenceEngine } from '@xray/ml';
import { readLabelsCsv } from './dataset';
import type { Preprocess } from './features';
import { bootstrapIntervals, type ConfidenceIntervals } from './intervals';
import { evaluatePredictions, type EvaluationMetrics } from './metrics';

/** The JSON document `xray evaluate --json` prints (schema in docs/training.md). */
export interface EvaluationReport {
  model: { name: string; version: string; weightsSha256: string; temperature: number };
  images: { listed: number; evaluated: number; failed: { file: string; error: { code: string; message: string } }[] };
  metrics: EvaluationMetrics;
  /** 95 % patient-bootstrap intervals of top-1 accuracy and macro recall. */
  intervals: ConfidenceIntervals;
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
    onProgress?: (done: number, total: number) => void;
  },
): Promise<EvaluationReport> {
  const rows = await readLabelsCsv(options.labelsCsv, engine.card.labels.length);
  const batchSize = options.batchSize ?? 8;
  const probabilities: Float32Array[] = [];
  const labels: number[][] = [];
  const patientIds: string[] = [];
  const failed: EvaluationReport['images']['failed'] = [];
  let preprocessMs = 0;
  let modelMs = 0;
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch: { input: Float32Array; labels: number[]; patientId: string }[] = [];
    const preprocessStart = performance.now();
    for (const row of rows.slice(start, start + batchSize)) {
      try {
        const bytes = await readFile(join(options.imagesDir, row.file));
        batch.push({
          input: await options.preprocess(
            new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
            engine.card.preprocessing,
          ),
          labels: row.labels,
          patientId: row.patientId,
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
      });
    }
    modelMs += performance.now() - modelStart;
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
    timing: {
      msPerImage: perImage(preprocessMs + modelMs),
      msPerImagePreprocess: perImage(preprocessMs),
      msPerImageModel: perImage(modelMs),
    },
  };
}
