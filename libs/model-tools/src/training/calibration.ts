/** Temperature scaling (Guo et al. 2017) on probabilities: softmax(log p / T) = softmax(z / T). */
export function applyTemperature(probabilities: ArrayLike<number>, temperature: number): Float32Array {
  const logits = Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-30)) / temperature);
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (e) => e / sum);
}

/** Mean negative log-likelihood of the rows' labels (a multi-label row: the sum of its labels' probabilities). */
export function meanNll(probabilities: ArrayLike<number>[], labels: number[][], temperature = 1): number {
  let total = 0;
  probabilities.forEach((p, row) => {
    const scaled = temperature === 1 ? p : applyTemperature(p, temperature);
    total -= Math.log(
      Math.max(
        1e-12,
        labels[row].reduce((sum, label) => sum + scaled[label], 0),
      ),
    );
  });
  return total / Math.max(1, probabilities.length);
}

/** The temperature in [0.05, 20] minimising the validation NLL (golden-section search on log T; NLL is unimodal in T). */
export function fitTemperature(probabilities: ArrayLike<number>[], labels: number[][]): number {
  const golden = (Math.sqrt(5) - 1) / 2;
  let low = Math.log(0.05);
  let high = Math.log(20);
  const loss = (logT: number) => meanNll(probabilities, labels, Math.exp(logT));
  let a = high - golden * (high - low);
  let b = low + golden * (high - low);
  let fa = loss(a);
  let fb = loss(b);
  for (let i = 0; i < 60 && high - low > 1e-4; i++) {
    if (fa < fb) {
      high = b;
      b = a;
      fb = fa;
      a = high - golden * (high - low);
      fa = loss(a);
    } else {
      low = a;
      a = b;
      fa = fb;
      b = low + golden * (high - low);
      fb = loss(b);
    }
  }
  return Math.exp((low + high) / 2);
}
