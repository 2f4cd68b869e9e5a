import { seededRandom } from '@xray/shared';
import { decodeOodModel, encodeOodModel, type OodModel, oodResult, oodScore, sha256Hex } from '@xray/ml';
import { fitOodStatistics, jacobiEigen, thresholdForShare } from './ood-fit';

/** Normal samples from a seeded uniform source (Box-Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Two classes in d dimensions with a shared, correlated covariance (x = A z + mean). */
function samples(d: number, n: number, seed: number): { features: Float32Array[]; labels: number[][] } {
  const random = seededRandom(seed);
  const mixing = Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0.3 * (((i * 7) % 5) - 2)) / 2);
  const features: Float32Array[] = [];
  const labels: number[][] = [];
  for (let s = 0; s < n; s++) {
    const label = s % 2;
    const z = Array.from({ length: d }, () => normal(random));
    features.push(
      Float32Array.from({ length: d }, (_, j) => {
        let v = label === 0 ? 0 : 3;
        for (let m = 0; m < d; m++) v += mixing[j * d + m] * z[m];
        return v;
      }),
    );
    labels.push([label]);
  }
  return { features, labels };
}

/** The exact squared Mahalanobis distance to the nearest class mean, from a full eigen-decomposition. */
function exactSquared(model: Omit<OodModel, 'threshold'>, covariance: number[], x: Float32Array): number {
  const d = model.dimensions;
  const { vectors, values } = jacobiEigen(covariance, d);
  let best = Infinity;
  for (let c = 0; c < model.classes; c++) {
    let sum = 0;
    for (let i = 0; i < d; i++) {
      let p = 0;
      for (let j = 0; j < d; j++) p += vectors[j * d + i] * (x[j] - model.means[c * d + j]);
      sum += (p * p) / values[i];
    }
    best = Math.min(best, sum);
  }
  return best;
}

describe('out-of-distribution score', () => {
  const d = 6;
  const train = samples(d, 4000, 1);

  it('equals the exact Mahalanobis distance when every direction is kept and nothing is shrunk', () => {
    const model = fitOodStatistics(train.features, train.labels, { components: d - 1, shrinkage: 0 });
    expect(model.classes).toBe(2);
    // The covariance the model describes, rebuilt from its parts.
    const covariance = new Array<number>(d * d).fill(0);
    for (let i = 0; i < d; i++) covariance[i * d + i] = model.residualVariance;
    for (let k = 0; k < model.variances.length; k++)
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++)
          covariance[i * d + j] +=
            (model.variances[k] - model.residualVariance) * model.components[k * d + i] * model.components[k * d + j];
    // ...is the sample covariance of the residuals.
    const sample = new Array<number>(d * d).fill(0);
    train.features.forEach((f, n) => {
      const c = train.labels[n][0];
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++)
          sample[i * d + j] +=
            ((f[i] - model.means[c * d + i]) * (f[j] - model.means[c * d + j])) / train.features.length;
    });
    for (let i = 0; i < d * d; i++) expect(covariance[i]).toBeCloseTo(sample[i], 3);
    const probe = samples(d, 5, 2).features;
    for (const x of probe) {
      expect(oodScore({ ...model, threshold: 0 }, x) ** 2 * d).toBeCloseTo(exactSquared(model, sample, x), 2);
    }
  });

  it('scores training-like points about 1 and far points high; the threshold leaves the requested share above', () => {
    const model = fitOodStatistics(train.features, train.labels, { components: 3, shrinkage: 0.1 });
    const validation = samples(d, 1000, 3).features.map((x) => oodScore({ ...model, threshold: 0 }, x));
    const mean = validation.reduce((a, b) => a + b, 0) / validation.length;
    expect(mean).toBeGreaterThan(0.8);
    expect(mean).toBeLessThan(1.2);
    const threshold = thresholdForShare(validation, 0.01);
    expect(validation.filter((s) => s > threshold).length).toBe(10);
    const far = Float32Array.from({ length: d }, (_, j) => (j % 2 ? 12 : -9));
    expect(oodResult({ ...model, threshold }, far)).toEqual({
      score: expect.any(Number),
      threshold,
      outOfDistribution: true,
    });
    expect(oodResult({ ...model, threshold }, train.features[0]).outOfDistribution).toBe(false);
  });

  it('round-trips through ood.bin and refuses a file of the wrong size', () => {
    const statistics = fitOodStatistics(train.features, train.labels, { components: 2, shrinkage: 0.2 });
    const model: OodModel = { ...statistics, threshold: 1.7 };
    const bytes = encodeOodModel(model);
    const card = {
      file: 'ood.bin',
      sha256: sha256Hex(bytes),
      featureLayer: 'gap',
      dimensions: d,
      classes: 2,
      components: 2,
      residualVariance: model.residualVariance,
      threshold: 1.7,
      fit: {
        trainImages: 1,
        shrinkage: 0.2,
        targetValidationShare: 0.01,
        validationImages: 1,
        validationShareAbove: 0,
      },
    };
    const decoded = decodeOodModel(bytes, card);
    expect(oodScore(decoded, train.features[3])).toBeCloseTo(oodScore(model, train.features[3]), 6);
    expect(() => decodeOodModel(bytes.subarray(4), card)).toThrow(/bytes; the card describes/);
  });
});
