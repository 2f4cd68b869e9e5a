/** Soft target of a row: its labels share the probability mass evenly. */
export function softTarget(labels: number[], numClasses: number): Float32Array {
  const target = new Float32Array(numClasses);
  for (const label of labels) target[label] = 1 / labels.length;
  return target;
}

/**
 * Class-imbalance weighting: `balanced` weighs class c by N / (K n_c) (as sklearn), `sqrt`
 * by its square root (milder, keeps common-class precision), `none` by 1. A row's weight is
 * the mean of its labels' weights.
 */
export type ClassWeighting = 'balanced' | 'sqrt' | 'none';

export function classWeights(rows: number[][], numClasses: number, mode: ClassWeighting): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const labels of rows) for (const label of labels) counts[label] += 1 / labels.length;
  const present = counts.filter((n) => n > 0).length;
  return counts.map((n) => {
    if (mode === 'none' || n === 0) return 1;
    const balanced = rows.length / (present * n);
    return mode === 'balanced' ? balanced : Math.sqrt(balanced);
  });
}

export function rowWeight(labels: number[], weights: number[]): number {
  return labels.reduce((sum, label) => sum + weights[label], 0) / labels.length;
}
