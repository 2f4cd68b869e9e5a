import { predictedClass, referenceClass } from './metrics';
import { seededRandom } from './random';

export interface Interval {
  low: number;
  high: number;
}

/** Percentile-bootstrap confidence intervals of the headline metrics (see `bootstrapIntervals`). */
export interface ConfidenceIntervals {
  /** Two-sided coverage, e.g. 0.95. */
  level: number;
  resamples: number;
  /** Patients resampled (rows without a PatientID count as their own patient). */
  patients: number;
  top1Accuracy: Interval;
  macroRecall: Interval;
}

export interface BootstrapOptions {
  resamples: number;
  level: number;
  seed: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { resamples: 2000, level: 0.95, seed: 42 };

/**
 * How far the top-1 accuracy and macro recall of a few hundred images may be from the truth:
 * patients are drawn with replacement (a patient's images move together, since they are not
 * independent) and the metrics recomputed; the interval is the middle `level` of those values.
 * Rare classes absent from a resample drop out of its macro recall, as they do in the metrics.
 */
export function bootstrapIntervals(
  probabilities: ArrayLike<number>[],
  labels: number[][],
  patientIds: string[],
  numClasses: number,
  options: BootstrapOptions = DEFAULT_BOOTSTRAP,
): ConfidenceIntervals {
  // Per patient: rows, right answers, and per reference class its rows and hits.
  const patients = new Map<
    string,
    { rows: number; right: number; support: Map<number, number>; hits: Map<number, number> }
  >();
  probabilities.forEach((p, row) => {
    const predicted = predictedClass(p);
    const reference = referenceClass(labels[row], predicted);
    const patient = patients.get(patientIds[row]) ?? { rows: 0, right: 0, support: new Map(), hits: new Map() };
    patient.rows++;
    patient.support.set(reference, (patient.support.get(reference) ?? 0) + 1);
    if (reference === predicted) {
      patient.right++;
      patient.hits.set(reference, (patient.hits.get(reference) ?? 0) + 1);
    }
    patients.set(patientIds[row], patient);
  });
  const groups = [...patients.values()];
  const random = seededRandom(options.seed);
  const top1: number[] = [];
  const macro: number[] = [];
  const support = new Float64Array(numClasses);
  const hits = new Float64Array(numClasses);
  for (let r = 0; r < options.resamples && groups.length > 0; r++) {
    support.fill(0);
    hits.fill(0);
    let rows = 0;
    let right = 0;
    for (let g = 0; g < groups.length; g++) {
      const patient = groups[Math.floor(random() * groups.length)];
      rows += patient.rows;
      right += patient.right;
      for (const [k, n] of patient.support) support[k] += n;
      for (const [k, n] of patient.hits) hits[k] += n;
    }
    top1.push(right / rows);
    let recallSum = 0;
    let present = 0;
    for (let k = 0; k < numClasses; k++) {
      if (support[k] > 0) {
        recallSum += hits[k] / support[k];
        present++;
      }
    }
    macro.push(recallSum / present);
  }
  return {
    level: options.level,
    resamples: top1.length,
    patients: groups.length,
    top1Accuracy: percentileInterval(top1, options.level),
    macroRecall: percentileInterval(macro, options.level),
  };
}

function percentileInterval(values: number[], level: number): Interval {
  if (values.length === 0) return { low: 0, high: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
  return { low: at((1 - level) / 2), high: at(1 - (1 - level) / 2) };
}
