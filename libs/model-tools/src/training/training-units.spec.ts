import * as tf from '@tensorflow/tfjs';
import { DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import { buildTinyTestModel } from '@xray/ml/testing';
import { withInputSize } from './backbone';
import { adjustForClassPrior, buildHead, DEFAULT_HEAD } from './head';
import { augmentImage } from './augment';
import { applyTemperature, fitTemperature, meanNll } from './calibration';
import { parseLabelsCsv } from './dataset';
import { bootstrapIntervals } from './intervals';
import { evaluatePredictions } from './metrics';
import { seededRandom } from './random';
import { groupedSplit } from './split';
import { trainWithEarlyStopping } from './training-loop';
import { classWeights } from './targets';

describe('labels CSV', () => {
  it('reads multi-label rows and patient ids, and rejects out-of-range classes', () => {
    const rows = parseLabelsCsv('file,Target,PatientID\na.png,3,p1\n"b,1.png",0 14,p2\n', 22);
    expect(rows).toEqual([
      { file: 'a.png', labels: [3], patientId: 'p1' },
      { file: 'b,1.png', labels: [0, 14], patientId: 'p2' },
    ]);
    expect(() => parseLabelsCsv('file,Target\na.png,22\n', 22)).toThrow(/class indices 0..21/);
    expect(() => parseLabelsCsv('name,label\na.png,1\n', 22)).toThrow(/file.*Target/);
  });
});

describe('grouped split', () => {
  const images = Array.from({ length: 200 }, (_, i) => ({
    file: `${i}.png`,
    labels: [i % 5 === 0 ? 1 : 0],
    patientId: `p${Math.floor(i / 3)}`,
  }));

  it('keeps every patient on one side, is reproducible, and reaches the rare class', () => {
    const split = groupedSplit(images, 0.2, 7);
    const trainPatients = new Set(split.train.map((i) => i.patientId));
    expect(split.validation.some((i) => trainPatients.has(i.patientId))).toBe(false);
    expect(split.train.length + split.validation.length).toBe(images.length);
    expect(split.validation.length / images.length).toBeGreaterThan(0.1);
    expect(split.validation.length / images.length).toBeLessThan(0.3);
    expect(split.validation.some((i) => i.labels[0] === 1)).toBe(true);
    expect(groupedSplit(images, 0.2, 7)).toEqual(split);
    expect(groupedSplit(images, 0.2, 8).validation).not.toEqual(split.validation);
  });
});

describe('metrics', () => {
  it('counts a prediction right when it is any of the row labels; per-class, confusion, ECE and bands', () => {
    const probabilities = [
      [0.95, 0.05, 0],
      [0.1, 0.8, 0.1],
      [0.6, 0.3, 0.1],
      [0.2, 0.1, 0.7],
    ];
    const labels = [[0], [1, 2], [1], [2]];
    const m = evaluatePredictions(probabilities, labels, ['a', 'b', 'c'], DEFAULT_BAND_THRESHOLDS);
    expect(m.top1Accuracy).toBeCloseTo(0.75);
    expect(m.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(m.perClass.map((c) => c.recall)).toEqual([1, 0.5, 1]);
    expect(m.perClass[0].precision).toBeCloseTo(0.5);
    expect(m.macroRecall).toBeCloseTo(2.5 / 3);
    expect(m.bands.green).toEqual({ count: 1, share: 0.25, accuracy: 1 });
    expect(m.bands.orange).toEqual({ count: 2, share: 0.5, accuracy: 1 });
    expect(m.bands.red).toEqual({ count: 1, share: 0.25, accuracy: 0 });
    // bins: 0.95 (right), 0.8 (right), 0.7 (right), 0.6 (wrong) -> |1-0.95|+|1-0.8|+|1-0.7|+|0-0.6| over 4
    expect(m.ece).toBeCloseTo((0.05 + 0.2 + 0.3 + 0.6) / 4);
  });
});

describe('temperature scaling', () => {
  it('recovers the temperature that made over-confident predictions', () => {
    const random = seededRandom(3);
    const trueLogits = Array.from({ length: 400 }, () => [random() * 2, random() * 2, random() * 2]);
    const labels = trueLogits.map((z) => {
      const p = applyTemperature(z.map(Math.exp), 1);
      const u = random();
      return [u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2];
    });
    // The model reports logits three times too large: T close to 3 should undo it.
    const overconfident = trueLogits.map((z) =>
      applyTemperature(
        z.map((v) => Math.exp(3 * v)),
        1,
      ),
    );
    const temperature = fitTemperature(overconfident, labels);
    expect(temperature).toBeGreaterThan(2);
    expect(temperature).toBeLessThan(4.5);
    expect(meanNll(overconfident, labels, temperature)).toBeLessThan(meanNll(overconfident, labels, 1));
  });
});

describe('augmentation', () => {
  it('is seeded, keeps the value range and a constant image constant', () => {
    const image = Float32Array.from({ length: 16 * 16 }, (_, i) => (i % 16) / 15);
    const config = { rotationDegrees: 20, quarterTurnProbability: 0.5, shift: 0.1, shearDegrees: 10, zoom: 0.1 };
    const a = augmentImage(image, 16, 16, 1, config, seededRandom(1));
    expect(augmentImage(image, 16, 16, 1, config, seededRandom(1))).toEqual(a);
    expect(a).not.toEqual(image);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    const constant = augmentImage(new Float32Array(16 * 16 * 3).fill(0.5), 16, 16, 3, config, seededRandom(2));
    expect([...constant].every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
  });

  it('is the identity with no transform', () => {
    const image = Float32Array.from({ length: 8 * 8 }, (_, i) => i);
    const none = { rotationDegrees: 0, quarterTurnProbability: 0, shift: 0, shearDegrees: 0, zoom: 0 };
    expect(augmentImage(image, 8, 8, 1, none, seededRandom(1))).toEqual(image);
  });
});

describe('class weights', () => {
  it('weighs rare classes up, sqrt milder than balanced', () => {
    const rows = [[0], [0], [0], [1]];
    const balanced = classWeights(rows, 2, 'balanced');
    expect(balanced).toEqual([4 / 6, 2]);
    expect(classWeights(rows, 2, 'sqrt')).toEqual(balanced.map(Math.sqrt));
    expect(classWeights(rows, 2, 'none')).toEqual([1, 1]);
  });
});

describe('backbone input size', () => {
  it('rebuilds a fully convolutional network at another input size with the same weights', async () => {
    const small = buildTinyTestModel({ inputSize: 32, seed: 5 });
    const reference = buildTinyTestModel({ inputSize: 64, seed: 5 });
    const resized = await withInputSize(small, 64);
    expect(resized.inputs[0].shape).toEqual([null, 64, 64, 3]);
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 9);
    const expected = await (reference.predict(x) as tf.Tensor).data();
    const actual = await (resized.predict(x) as tf.Tensor).data();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    x.dispose();
    reference.dispose();
    resized.dispose();
  });
});

describe('bootstrap confidence intervals', () => {
  const oneHot = (k: number) => Float32Array.from({ length: 3 }, (_, j) => (j === k ? 0.9 : 0.05));
  // 100 images of 3 classes, 80 right: every 5th image is predicted as the next class.
  const labels = Array.from({ length: 100 }, (_, i) => [i % 3]);
  const probabilities = labels.map(([k], i) => oneHot(i % 5 === 0 ? (k + 1) % 3 : k));
  const eachOwnPatient = labels.map((_, i) => `p${i}`);

  it('brackets the point estimates with about the binomial width, reproducibly', () => {
    const intervals = bootstrapIntervals(probabilities, labels, eachOwnPatient, 3, {
      resamples: 2000,
      level: 0.95,
      seed: 1,
    });
    expect(intervals).toMatchObject({ level: 0.95, resamples: 2000, patients: 100 });
    expect(intervals.top1Accuracy.low).toBeLessThan(0.8);
    expect(intervals.top1Accuracy.high).toBeGreaterThan(0.8);
    // Binomial standard error at p = 0.8, n = 100 is 0.04: a 95 % interval about +-0.08.
    expect(intervals.top1Accuracy.high - intervals.top1Accuracy.low).toBeGreaterThan(0.1);
    expect(intervals.top1Accuracy.high - intervals.top1Accuracy.low).toBeLessThan(0.22);
    expect(intervals.macroRecall.low).toBeLessThanOrEqual(intervals.macroRecall.high);
    expect(
      bootstrapIntervals(probabilities, labels, eachOwnPatient, 3, { resamples: 2000, level: 0.95, seed: 1 }),
    ).toEqual(intervals);
  });

  it('is a single point when every prediction is right, and widens when errors cluster in a few patients', () => {
    const perfect = bootstrapIntervals(
      labels.map(([k]) => oneHot(k)),
      labels,
      eachOwnPatient,
      3,
    );
    expect(perfect.top1Accuracy).toEqual({ low: 1, high: 1 });
    expect(perfect.macroRecall).toEqual({ low: 1, high: 1 });
    // The same 80 right / 20 wrong, but all 20 errors belong to one patient out of 11.
    const clustered = labels.map(([k], i) => oneHot(i < 20 ? (k + 1) % 3 : k));
    const patients = labels.map((_, i) => (i < 20 ? 'errors' : `p${i % 10}`));
    const byPatient = bootstrapIntervals(clustered, labels, patients, 3);
    const byImage = bootstrapIntervals(clustered, labels, eachOwnPatient, 3);
    expect(byPatient.patients).toBe(11);
    expect(byPatient.top1Accuracy.high - byPatient.top1Accuracy.low).toBeGreaterThan(
      1.5 * (byImage.top1Accuracy.high - byImage.top1Accuracy.low),
    );
  });
});

describe('training loop without validation data', () => {
  it('runs every epoch and keeps the last weights (training on every image)', async () => {
    const weight = tf.variable(tf.scalar(0));
    const layerVariable = { read: () => weight, write: (value: tf.Tensor) => weight.assign(value as tf.Scalar) };
    const result = await trainWithEarlyStopping({
      rowCount: 4,
      batchSize: 2,
      maxEpochs: 3,
      patience: 1,
      seed: 1,
      weights: [layerVariable as unknown as tf.LayerVariable],
      startLoss: Infinity,
      step: () => {
        weight.assign(tf.add(weight, 1) as tf.Scalar);
        return tf.scalar(1);
      },
    });
    expect(result).toMatchObject({ epochsRun: 3, bestEpoch: 3 });
    expect(result.history.every((epoch) => Number.isNaN(epoch.validationLoss) && epoch.best)).toBe(true);
    expect(weight.dataSync()[0]).toBe(6); // 3 epochs x 2 steps, none rolled back
    weight.dispose();
  });
});

describe('logit adjustment', () => {
  it("lowers each class's log-score by tau x log of its training share, the same for every input", () => {
    const head = buildHead(4, 3, { ...DEFAULT_HEAD, dropout: 0 }, 1);
    const features = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const logScores = () => tf.tidy(() => (tf.log(head.predict(features) as tf.Tensor) as tf.Tensor2D).arraySync());
    const before = logScores();
    adjustForClassPrior(head, [80, 15, 5], 0.5);
    const after = logScores();
    const expectedShift = [80, 15, 5].map((count) => -0.5 * Math.log(count / 100));
    for (const [row, scores] of after.entries()) {
      // Softmax outputs are logits up to a per-row constant: compare class differences with class 0.
      for (let k = 1; k < 3; k++) {
        const moved = scores[k] - scores[0] - (before[row][k] - before[row][0]);
        expect(moved).toBeCloseTo(expectedShift[k] - expectedShift[0], 4);
      }
    }
    // The rare class gains on the common one.
    expect(after[0][2] - after[0][0]).toBeGreaterThan(before[0][2] - before[0][0]);
    features.dispose();
    head.dispose();
  });
});
