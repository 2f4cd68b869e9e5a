import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModelPackage } from '@xray/ml';
import { writeTinyTestModelPackage } from '@xray/ml/testing';
import { groupedSplit, parseLabelsCsv } from '@xray/model-tools';
import { runCli } from '../testing/run-cli';

/**
 * End to end on images generated here (a fresh clone has no real data): `xray train` with a tiny
 * random-weight conv backbone learns three visibly different patterns, `xray evaluate --json`
 * measures the saved package through the serving path.
 */
const CLASSES = [0, 3, 9];

function pattern(target: number, variant: number): Uint8Array {
  const size = 48;
  const pixels = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const noise = ((x * 7 + y * 13 + variant * 31) % 17) * 2;
      let value: number;
      if (target === 0)
        value = (x * 255) / size; // horizontal ramp
      else if (target === 3)
        value = Math.floor(x / 4) % 2 ? 230 : 20; // vertical stripes
      else value = (x - 24) ** 2 + (y - 24) ** 2 < 120 + variant * 8 ? 240 : 10; // bright disc
      pixels[y * size + x] = Math.min(255, value + noise);
    }
  }
  return pixels;
}

async function writeDataset(dir: string, patients: number): Promise<void> {
  const rows = ['file,Target,PatientID'];
  for (let p = 0; p < patients; p++) {
    for (const [k, target] of CLASSES.entries()) {
      const file = `p${p}-c${target}.png`;
      await sharp(pattern(target, p), { raw: { width: 48, height: 48, channels: 1 } })
        .png()
        .toFile(join(dir, file));
      // One multi-label row per patient: class 0 images also carry label 14.
      rows.push(`${file},${target === 0 && k === 0 ? '0 14' : target},patient-${p}`);
    }
  }
  await writeFile(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
}

describe('xray train + xray evaluate (generated data)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-train-'));
    await writeDataset(dir, 10);
    await writeTinyTestModelPackage(join(dir, 'backbone'), { inputSize: 32, seed: 3 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('trains a package that evaluate measures above chance, with card, config and metrics written', async () => {
    const out = join(dir, 'model');
    const common = ['--images', dir, '--labels', join(dir, 'labels.csv'), '--threads', '1'];
    const summary = await runCli([
      'train',
      ...common,
      '--backbone',
      join(dir, 'backbone'),
      '--layer',
      'conv2_relu',
      '--out',
      out,
      '--augmented-copies',
      '2',
      '--epochs',
      '80',
      '--patience',
      '20',
      '--learning-rate',
      '0.1',
      '--cache',
      join(dir, 'cache'),
      '--validation-fraction',
      '0.3',
      '--test-time-augmentation',
      'hflip',
    ]);
    expect(summary).toMatch(/top-1 [\d.]+%, macro recall/);

    const pkg = await loadModelPackage(out);
    expect(pkg.card.gradcam.targetLayer).toBe('conv2_relu');
    expect(pkg.card.temperature).toBeGreaterThan(0);
    expect(pkg.card.testTimeAugmentation).toBe('hflip');
    expect(pkg.card.preprocessing).toEqual({
      width: 32,
      height: 32,
      channels: 3,
      normalization: 'minus1to1',
      resize: 'stretch',
    });
    expect(pkg.model.outputs[0].shape).toEqual([null, 22]);
    pkg.model.dispose();
    const training = JSON.parse(await readFile(join(out, 'training.json'), 'utf8'));
    expect(training.split.validationPatients).toBe(3);
    expect(training.history.length).toBeGreaterThan(0);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.validation.top1Accuracy).toBeGreaterThan(0.6);
    expect(metrics.validation.intervals.patients).toBe(3);
    const markdown = await readFile(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(markdown).toMatch(/95 % confidence intervals \(bootstrap over the 3 validation patients/);
    expect(markdown).toMatch(
      /Test-time augmentation: class scores averaged \(in logit space\) over the image and its left-right mirror/,
    );

    const report = JSON.parse(await runCli(['evaluate', ...common, '--model', out, '--json']));
    expect(report.images).toEqual({ listed: 30, evaluated: 30, failed: [] });
    expect(report.metrics.top1Accuracy).toBeGreaterThan(0.6); // chance is 1/3
    expect(report.metrics.confusion).toHaveLength(22);
    expect(report.metrics.perClass[3].support).toBeGreaterThan(0);
    const bandTotal = ['green', 'orange', 'red'].reduce((sum, band) => sum + report.metrics.bands[band].count, 0);
    expect(bandTotal).toBe(30);
    const { top1Accuracy, macroRecall } = report.intervals;
    expect(report.intervals).toMatchObject({ level: 0.95, patients: 10 });
    expect(top1Accuracy.low).toBeLessThanOrEqual(report.metrics.top1Accuracy);
    expect(top1Accuracy.high).toBeGreaterThanOrEqual(report.metrics.top1Accuracy);
    expect(macroRecall.low).toBeLessThanOrEqual(report.metrics.macroRecall);
    expect(macroRecall.high).toBeGreaterThanOrEqual(report.metrics.macroRecall);
    expect(report.timing.msPerImage).toBeGreaterThan(0);

    // The out-of-distribution model: fitted by train on the training split, calibrated on validation.
    const card = JSON.parse(await readFile(join(out, 'model-card.json'), 'utf8'));
    expect(card.training.logitAdjustment).toBeUndefined();
    expect(card.ood).toMatchObject({
      file: 'ood.bin',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      featureLayer: 'global_average_pooling2d',
      dimensions: 16,
      fit: { trainImages: 21, validationImages: 9, targetValidationShare: 0.01 },
    });
    expect(report.outOfDistribution).toMatchObject({ warning: 'out-of-distribution', threshold: card.ood.threshold });
    expect(report.outOfDistribution.flagged).toBeLessThan(30);
    // Robustness: every image under the fixed rendering changes; labels of these patterns mostly survive.
    expect(report.robustness.perturbations).toBe(10);
    expect(report.robustness.labelKept).toBeGreaterThan(0.3);
    expect(report.robustness.meanConfidenceChange).toBeGreaterThan(0);
    expect(report.robustness.meanConfidenceChange).toBeLessThan(0.5);
    // Per band of the unchanged prediction: the bands partition the images, and the overall share is their mix.
    const bands = Object.values(report.robustness.byBand) as { images: number; labelKept: number | null }[];
    expect(bands.reduce((sum, band) => sum + band.images, 0)).toBe(report.images.evaluated);
    expect(bands.reduce((sum, band) => sum + band.images * (band.labelKept ?? 0), 0)).toBeCloseTo(
      report.robustness.labelKept * report.images.evaluated,
    );
    expect(report.metrics.bands.green.count).toBe(report.robustness.byBand.green.images);
    const text = await runCli(['evaluate', ...common, '--model', out]);
    expect(text).toMatch(/robustness under 10 fixed rendering changes: label kept on [\d.]+% of images/);
    expect(text).toMatch(/kept under all, by band of the unchanged image: green ([\d.]+%|-) of \d+, orange/);
    expect(text).toMatch(/out-of-distribution warning \(score > [\d.]+\): \d+ images/);
  }, 60_000);

  it('refits the out-of-distribution statistics of a package with xray fit-ood', async () => {
    const out = join(dir, 'model'); // written by the first test
    const before = JSON.parse(await readFile(join(out, 'model-card.json'), 'utf8')).ood;
    const common = ['--model', out, '--images', dir, '--labels', join(dir, 'labels.csv')];
    const printed = JSON.parse(await runCli(['fit-ood', ...common, '--target-share', '0.34']));
    const after = JSON.parse(await readFile(join(out, 'model-card.json'), 'utf8')).ood;
    expect(printed).toEqual(after);
    // Same split and features as train's fit (up to float rounding): the same statistics, only the threshold moved (3 of 9 above it).
    expect(after.dimensions).toBe(before.dimensions);
    expect(Math.abs(after.residualVariance / before.residualVariance - 1)).toBeLessThan(1e-3);
    expect(after.fit.validationShareAbove).toBeCloseTo(3 / 9);
    expect(after.threshold).toBeLessThan(before.threshold);
    await expect(runCli(['fit-ood', ...common, '--feature-layer', 'nope'])).rejects.toThrow(/no layer "nope"/);
  }, 60_000);

  it('trains with --photometric default: other augmented copies, the ranges recorded in the card', async () => {
    const out = join(dir, 'photometric');
    await runCli([
      'train',
      ...['--images', dir, '--labels', join(dir, 'labels.csv'), '--threads', '1'],
      ...['--backbone', join(dir, 'backbone'), '--layer', 'conv2_relu', '--out', out, '--augmented-copies', '2'],
      ...['--epochs', '5', '--cache', join(dir, 'cache'), '--validation-fraction', '0.3', '--photometric', 'default'],
    ]);
    const card = JSON.parse(await readFile(join(out, 'model-card.json'), 'utf8'));
    expect(card.training.augmentation.photometric).toMatchObject({ voiProbability: 0.5, gamma: 0.3, contrast: 0.1 });
    // Other copies, so other cached features: a folder beside the first test's two (its images, and
    // the mirrored validation images of its flip test-time augmentation).
    expect(await readdir(join(dir, 'cache'))).toHaveLength(3);
    expect(await readFile(join(out, 'MODEL_CARD.md'), 'utf8')).toMatch(/photometric: the plain min-max or/);
  }, 60_000);

  it('fine-tunes the top of the backbone with --fine-tune-from: frozen below, trained from that layer, recorded in the card', async () => {
    const out = join(dir, 'fine-tuned');
    const summary = await runCli([
      'train',
      '--images',
      dir,
      '--labels',
      join(dir, 'labels.csv'),
      '--threads',
      '1',
      '--backbone',
      join(dir, 'backbone'),
      '--layer',
      'conv2_relu',
      '--out',
      out,
      '--augmented-copies',
      '1',
      '--epochs',
      '40',
      '--learning-rate',
      '0.1',
      '--cache',
      join(dir, 'cache'),
      '--validation-fraction',
      '0.3',
      '--fine-tune-from',
      'conv2',
      '--fine-tune-epochs',
      '3',
      '--fine-tune-learning-rate',
      '0.01',
    ]);
    expect(summary).toMatch(/top-1 [\d.]+%, macro recall/);
    const training = JSON.parse(await readFile(join(out, 'training.json'), 'utf8'));
    expect(training.fineTuneHistory.length).toBeGreaterThan(0);
    expect(training.config.fineTune).toMatchObject({ fromLayer: 'conv2', maxEpochs: 3, learningRate: 0.01 });

    const [pkg, original] = await Promise.all([loadModelPackage(out), loadModelPackage(join(dir, 'backbone'))]);
    expect(pkg.card.training?.fineTune).toMatchObject({ fromLayer: 'conv2' });
    expect(pkg.card.architecture).toMatch(/fine-tuned from conv2/);
    const weights = (model: typeof pkg.model, layer: string) => model.getLayer(layer).getWeights()[0].dataSync();
    expect(weights(pkg.model, 'conv1')).toEqual(weights(original.model, 'conv1'));
    // conv2 keeps the fine-tuned weights when a fine-tuning epoch beat the head alone, else the original ones.
    const improved = training.fineTuneHistory.some((epoch: { best: boolean }) => epoch.best);
    expect(
      Array.from(weights(pkg.model, 'conv2')).some((value, k) => value !== weights(original.model, 'conv2')[k]),
    ).toBe(improved);
    pkg.model.dispose();
    original.model.dispose();
  }, 60_000);

  it('trains on every image with --all-images: the split run picks the epochs, temperature and OOD ratio and gives the figures', async () => {
    const out = join(dir, 'all-images');
    const splitOut = join(dir, 'split-run');
    const summary = await runCli([
      'train',
      ...['--images', dir, '--labels', join(dir, 'labels.csv'), '--threads', '1'],
      ...['--backbone', join(dir, 'backbone'), '--layer', 'conv2_relu', '--augmented-copies', '1'],
      ...['--epochs', '30', '--learning-rate', '0.1', '--cache', join(dir, 'cache'), '--validation-fraction', '0.3'],
      ...['--fine-tune-from', 'conv2', '--fine-tune-epochs', '2', '--fine-tune-learning-rate', '0.01'],
      ...['--rendering', 'equalized', '--low-pass-sigma', '0.8', '--test-time-augmentation', 'hflip'],
      ...['--logit-adjustment', '0.5'],
      ...['--all-images', '--split-out', splitOut, '--out', out],
    ]);
    expect(summary).toMatch(/^.*all-images: .* split-run validation \(9 images, 3 patients\): top-1 [\d.]+%/);
    expect(summary).toMatch(/label kept under all rendering changes [\d.]+%/);
    const [split, all] = await Promise.all([loadModelPackage(splitOut), loadModelPackage(out)]);
    const training = JSON.parse(await readFile(join(splitOut, 'training.json'), 'utf8'));
    expect(all.card.training?.allImages).toEqual({
      images: 30,
      patients: 10,
      headEpochs: training.history.filter((epoch: { best: boolean }) => epoch.best).at(-1).epoch,
      fineTuneEpochs: training.fineTuneHistory.filter((epoch: { best: boolean }) => epoch.best).at(-1)?.epoch ?? 0,
      splitRunWeightsSha256: split.card.weightsSha256,
    });
    expect(all.card.weightsSha256).not.toBe(split.card.weightsSha256);
    expect(all.card.preprocessing).toMatchObject({ rendering: 'equalized', lowPassSigma: 0.8 });
    expect(all.card.testTimeAugmentation).toBe('hflip');
    expect(all.card.training?.logitAdjustment).toBe(0.5);
    // The figures, temperature and robustness are the split run's; the OOD model is refitted on all 30 images.
    expect(all.card.metrics).toEqual(split.card.metrics);
    expect(all.card.temperature).toBe(split.card.temperature);
    const robustness = (all.card.metrics?.validation as { robustness: { perturbations: number; labelKept: number } })
      .robustness;
    expect(robustness.perturbations).toBe(10);
    expect(all.card.ood?.fit).toMatchObject({ trainImages: 30, validationImages: 9 });
    expect(split.card.ood?.fit).toMatchObject({ trainImages: 21, validationImages: 9 });
    expect(all.card.ood?.fit.thresholdToMedianTrainingScore).toBeGreaterThan(0);
    expect(split.card.ood?.fit.thresholdToMedianTrainingScore).toBeUndefined();
    const markdown = await readFile(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(markdown).toMatch(/Shipped weights: trained on all 30 images \(10 patients\)/);
    expect(markdown).toMatch(/then a Gaussian blur of sigma 0.8 px .* then global histogram equalisation/);
    expect(markdown).toMatch(/Robustness .* label kept under all of them on [\d.]+ %/);
    expect(markdown).toMatch(/Logit adjustment: tau 0.5, the head's bias lowered/);
    expect(markdown).toMatch(/By band of the unchanged image: green (-|[\d.]+ %) kept \(\d+ images\)/);
    split.model.dispose();
    all.model.dispose();
    // The split run's figures are those of the package as served (mirror averaging included) on its validation images.
    const rows = (await readFile(join(dir, 'labels.csv'), 'utf8')).trim().split('\n');
    const validation = new Set(
      groupedSplit(parseLabelsCsv(rows.join('\n'), 22), 0.3, 42).validation.map((image) => image.file),
    );
    await writeFile(
      join(dir, 'validation.csv'),
      [rows[0], ...rows.slice(1).filter((row) => validation.has(row.split(',')[0]))].join('\n'),
    );
    const served = JSON.parse(
      await runCli([
        'evaluate',
        '--images',
        dir,
        '--labels',
        join(dir, 'validation.csv'),
        '--model',
        splitOut,
        '--json',
      ]),
    );
    const figures = split.card.metrics?.validation as { nll: number; top1Accuracy: number };
    expect(served.metrics.top1Accuracy).toBe(figures.top1Accuracy);
    expect(served.metrics.nll).toBeCloseTo(figures.nll, 4);
    // It has seen every image, so it classifies them at least as well as chance by far.
    const report = JSON.parse(
      await runCli(['evaluate', '--images', dir, '--labels', join(dir, 'labels.csv'), '--model', out, '--json']),
    );
    expect(report.metrics.top1Accuracy).toBeGreaterThan(0.6);
  }, 120_000);

  it('reports unreadable images instead of failing the evaluation; rejects bad options and a labels CSV naming missing files for training', async () => {
    await writeFile(join(dir, 'broken.png'), 'not an image');
    await writeFile(join(dir, 'broken.csv'), 'file,Target,PatientID\nbroken.png,3,x\np0-c3.png,3,y\n');
    const report = JSON.parse(
      await runCli([
        'evaluate',
        '--images',
        dir,
        '--labels',
        join(dir, 'broken.csv'),
        '--model',
        join(dir, 'model'),
        '--json',
        '--threads',
        '1',
      ]),
    );
    expect(report.images.evaluated).toBe(1);
    expect(report.images.failed).toEqual([
      { file: 'broken.png', error: expect.objectContaining({ code: 'UNSUPPORTED_FORMAT' }) },
    ]);

    await expect(
      runCli([
        'train',
        '--images',
        dir,
        '--labels',
        join(dir, 'labels.csv'),
        '--backbone',
        join(dir, 'backbone'),
        '--out',
        join(dir, 'never'),
        '--epochs',
        'many',
      ]),
    ).rejects.toThrow(/--epochs must be an integer/);
    await expect(
      runCli([
        ...['train', '--images', dir, '--labels', join(dir, 'labels.csv'), '--backbone', join(dir, 'backbone')],
        ...['--out', join(dir, 'never'), '--low-pass-sigma', '9'],
      ]),
    ).rejects.toThrow(/--low-pass-sigma must be at most 5/);
    await expect(
      runCli([
        ...['train', '--images', dir, '--labels', join(dir, 'labels.csv'), '--backbone', join(dir, 'backbone')],
        ...['--out', join(dir, 'never'), '--logit-adjustment', '-0.5'],
      ]),
    ).rejects.toThrow(/--logit-adjustment must be a number >= 0/);
    await writeFile(join(dir, 'missing.csv'), 'file,Target,PatientID\nnope.png,3,x\n');
    await expect(
      runCli([
        'train',
        '--images',
        dir,
        '--labels',
        join(dir, 'missing.csv'),
        '--backbone',
        join(dir, 'backbone'),
        '--layer',
        'conv2_relu',
        '--out',
        join(dir, 'never'),
      ]),
    ).rejects.toThrow(/missing/);
  }, 30_000);
});
