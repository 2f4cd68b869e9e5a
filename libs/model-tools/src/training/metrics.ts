import { type BandThresholds, type ConfidenceBand, confidenceBand } from '@xray/shared';

export interface ClassMetrics {
  label: string;
  /** Rows whose reference label is this class. */
  support: number;
  precision: number | null;
  recall: number | null;
}

export interface BandMetrics {
  count: number;
  share: number;
  accuracy: number | null;
}

/** What `xray evaluate --json` prints under `metrics` (see docs/training.md). */
export interface EvaluationMetrics {
  count: number;
  /** A prediction is right when it is any of the row's labels. */
  top1Accuracy: number;
  /** Mean recall over the classes with support > 0. */
  macroRecall: number;
  perClass: ClassMetrics[];
  /** confusion[reference][predicted]; the reference is the predicted class when it is one of the row's labels, else the row's first label. */
  confusion: number[][];
  /** Expected calibration error of the top-1 confidence, 15 equal-width bins. */
  ece: number;
  /** Mean negative log-likelihood of the row's labels (the sum of their probabilities). */
  nll: number;
  bands: Record<ConfidenceBand, BandMetrics>;
}

export function predictedClass(probabilities: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < probabilities.length; k++) if (probabilities[k] > probabilities[best]) best = k;
  return best;
}

/** The class a row counts for: the prediction when it is among the row's labels, else the first label. */
export function referenceClass(labels: number[], predicted: number): number {
  return labels.includes(predicted) ? predicted : labels[0];
}

export function evaluatePredictions(
  probabilities: ArrayLike<number>[],
  labels: number[][],
  classNames: readonly string[],
  thresholds: BandThresholds,
): EvaluationMetrics {
  const numClasses = classNames.length;
  const confusion = classNames.map(() => new Array<number>(numClasses).fill(0));
  const bins = Array.from({ length: 15 }, () => ({ count: 0, confidence: 0, correct: 0 }));
  const bandCounts = {
    green: { count: 0, correct: 0 },
    orange: { count: 0, correct: 0 },
    red: { count: 0, correct: 0 },
  };
  let correct = 0;
  let nll = 0;
  probabilities.forEach((p, row) => {
    const predicted = predictedClass(p);
    const confidence = p[predicted];
    const right = labels[row].includes(predicted);
    confusion[referenceClass(labels[row], predicted)][predicted]++;
    if (right) correct++;
    nll -= Math.log(
      Math.max(
        1e-12,
        labels[row].reduce((sum, label) => sum + p[label], 0),
      ),
    );
    const bin = bins[Math.min(bins.length - 1, Math.floor(confidence * bins.length))];
    bin.count++;
    bin.confidence += confidence;
    bin.correct += right ? 1 : 0;
    const band = bandCounts[confidenceBand(confidence, thresholds)];
    band.count++;
    band.correct += right ? 1 : 0;
  });
  const count = probabilities.length;
  const perClass = classNames.map((label, k) => {
    const support = confusion[k].reduce((a, b) => a + b, 0);
    const predictedTotal = confusion.reduce((sum, row) => sum + row[k], 0);
    return {
      label,
      support,
      precision: predictedTotal > 0 ? confusion[k][k] / predictedTotal : null,
      recall: support > 0 ? confusion[k][k] / support : null,
    };
  });
  const recalls = perClass.map((c) => c.recall).filter((r): r is number => r !== null);
  const band = (b: { count: number; correct: number }): BandMetrics => ({
    count: b.count,
    share: count > 0 ? b.count / count : 0,
    accuracy: b.count > 0 ? b.correct / b.count : null,
  });
  return {
    count,
    top1Accuracy: count > 0 ? correct / count : 0,
    macroRecall: recalls.length > 0 ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0,
    perClass,
    confusion,
    ece: count > 0 ? bins.reduce((sum, b) => sum + Math.abs(b.correct - b.confidence), 0) / count : 0,
    nll: count > 0 ? nll / count : 0,
    bands: { green: band(bandCounts.green), orange: band(bandCounts.orange), red: band(bandCounts.red) },
  };
}
