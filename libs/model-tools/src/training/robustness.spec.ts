import { DEFAULT_PHOTOMETRIC, type PhotometricConfig, type PhotometricParams, WIDE_PHOTOMETRIC } from './photometric';
import { robustnessMetrics, ROBUSTNESS_PERTURBATIONS } from './robustness';

/** How far a change goes towards each range's edge: 1 = on the edge, above 1 = outside. */
function reachOfRanges(p: PhotometricParams, c: PhotometricConfig): number {
  return Math.max(
    Math.max(p.clipLow, p.clipHigh) / c.voiClip,
    Math.abs(p.windowWidth - 1) / c.windowWidth,
    Math.abs(Math.log(p.gamma)) / Math.log(1 + c.gamma),
    Math.abs(p.contrast - 1) / c.contrast,
    Math.abs(p.brightness) / c.brightness,
    p.blurSigma / c.blurSigma,
    p.noiseSigma / c.noiseSigma,
  );
}

describe('robustness metric', () => {
  it('counts an image as kept only when its label survives every perturbation, and averages confidence changes', () => {
    const clean = [
      [0.9, 0.1, 0],
      [0.6, 0.4, 0],
      [0.2, 0.3, 0.5],
    ];
    const perturbed = [
      [
        [0.8, 0.2, 0],
        [0.6, 0.4, 0],
        [0.2, 0.3, 0.5],
      ],
      [
        [0.9, 0.1, 0],
        [0.3, 0.7, 0],
        [0.1, 0.3, 0.6],
      ],
    ];
    const report = robustnessMetrics(clean, perturbed, ['a', 'b']);
    expect(report.perturbations).toBe(2);
    expect(report.labelKept).toBeCloseTo(2 / 3);
    // |0.8-0.9| + 0 + 0 + 0 + |0.7-0.6| + |0.6-0.5| over 6.
    expect(report.meanConfidenceChange).toBeCloseTo(0.3 / 6);
    expect(report.perPerturbation).toEqual([
      { name: 'a', labelKept: 1, meanConfidenceChange: expect.closeTo(0.1 / 3) },
      { name: 'b', labelKept: 2 / 3, meanConfidenceChange: expect.closeTo(0.2 / 3) },
    ]);
    // Bands of the clean confidences 0.9, 0.6 and 0.5 (green above 0.9): the 0.6 image flips under b.
    expect(report.byBand).toEqual({
      green: { images: 0, labelKept: null },
      orange: { images: 1, labelKept: 1 },
      red: { images: 2, labelKept: 0.5 },
    });
    // With the card's own thresholds.
    expect(robustnessMetrics(clean, perturbed, ['a', 'b'], { green: 0.55, orange: 0.4 }).byBand).toEqual({
      green: { images: 2, labelKept: 0.5 },
      orange: { images: 1, labelKept: 1 },
      red: { images: 0, labelKept: null },
    });
  });

  it('is perfect for a model that ignores the perturbations', () => {
    const clean = [[0.5, 0.5]];
    const report = robustnessMetrics(clean, [[[0.5, 0.5]]], ['same']);
    expect(report).toMatchObject({ labelKept: 1, meanConfidenceChange: 0 });
  });

  it('has a fixed, named set of perturbations, none of them the identity', () => {
    const names = ROBUSTNESS_PERTURBATIONS.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('contrast -6%');
    for (const p of ROBUSTNESS_PERTURBATIONS) {
      const { noiseSeed: _seed, ...rest } = p.params;
      expect(rest).not.toEqual({
        clipLow: 0,
        clipHigh: 0,
        windowCentre: 0,
        windowWidth: 1,
        gamma: 1,
        contrast: 1,
        brightness: 0,
        blurSigma: 0,
        noiseSigma: 0,
      });
    }
  });

  it('reaches the default photometric ranges at most to their edges, and lies well inside the wide ones', () => {
    const reach = (c: PhotometricConfig) => ROBUSTNESS_PERTURBATIONS.map((p) => reachOfRanges(p.params, c));
    expect(Math.max(...reach(DEFAULT_PHOTOMETRIC))).toBeCloseTo(1, 5);
    expect(Math.max(...reach(WIDE_PHOTOMETRIC))).toBeLessThan(0.7);
  });
});
