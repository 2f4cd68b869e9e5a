import { type BandThresholds, type ConfidenceBand, confidenceBand, DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import { IDENTITY_PHOTOMETRIC, type PhotometricParams } from './photometric';

/** One fixed rendering change, applied to every evaluated image. */
export interface Perturbation {
  name: string;
  params: PhotometricParams;
}

const change = (name: string, params: Partial<PhotometricParams>): Perturbation => ({
  name,
  params: { ...IDENTITY_PHOTOMETRIC, ...params },
});

/**
 * The fixed set `xray evaluate` measures robustness on: renderings one site may differ from
 * another by (the 6 % contrast change is the DICOM-versus-PNG difference seen by the product owner).
 */
export const ROBUSTNESS_PERTURBATIONS: readonly Perturbation[] = [
  change('contrast -6%', { contrast: 0.94 }),
  change('contrast +10%', { contrast: 1.1 }),
  change('brightness +0.03', { brightness: 0.03 }),
  change('brightness -0.03', { brightness: -0.03 }),
  change('gamma 0.8', { gamma: 0.8 }),
  change('gamma 1.25', { gamma: 1.25 }),
  change('VOI clip 1%', { clipLow: 0.01, clipHigh: 0.01 }),
  change('window 15% narrower', { windowWidth: 0.85 }),
  change('blur sigma 0.8', { blurSigma: 0.8 }),
  change('noise sigma 0.02', { noiseSigma: 0.02, noiseSeed: 1 }),
];

export interface PerturbationRobustness {
  name: string;
  /** Share of images whose top-1 label is unchanged. */
  labelKept: number;
  /** Mean absolute change of the top-1 confidence. */
  meanConfidenceChange: number;
}

export interface RobustnessReport {
  perturbations: number;
  /** Share of images whose top-1 label is unchanged under every perturbation of the set. */
  labelKept: number;
  /** Mean absolute change of the top-1 confidence, over images and perturbations. */
  meanConfidenceChange: number;
  perPerturbation: PerturbationRobustness[];
  /**
   * The same share per band of the clean prediction: whether the labels a user would act on (green)
   * are the stable ones. `labelKept` is null for a band with no image.
   */
  byBand: Record<ConfidenceBand, { images: number; labelKept: number | null }>;
}

/**
 * Robustness of predictions to rendering changes: `clean[i]` are image i's probabilities,
 * `perturbed[p][i]` the same image's under perturbation p.
 */
export function robustnessMetrics(
  clean: ArrayLike<number>[],
  perturbed: ArrayLike<number>[][],
  names: string[],
  bands: BandThresholds = DEFAULT_BAND_THRESHOLDS,
): RobustnessReport {
  const top = (p: ArrayLike<number>) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    return { label: best, confidence: p[best] };
  };
  const reference = clean.map(top);
  const keptEverywhere = new Array<boolean>(clean.length).fill(true);
  let totalChange = 0;
  const perPerturbation = perturbed.map((images, p) => {
    let kept = 0;
    let changeSum = 0;
    images.forEach((probabilities, i) => {
      const now = top(probabilities);
      if (now.label === reference[i].label) kept++;
      else keptEverywhere[i] = false;
      changeSum += Math.abs(now.confidence - reference[i].confidence);
    });
    totalChange += changeSum;
    const n = Math.max(1, images.length);
    return { name: names[p], labelKept: kept / n, meanConfidenceChange: changeSum / n };
  });
  const n = clean.length;
  const bandOf = reference.map((r) => confidenceBand(r.confidence, bands));
  const keptIn = (band: ConfidenceBand) => {
    const images = bandOf.filter((b) => b === band).length;
    const kept = bandOf.filter((b, i) => b === band && keptEverywhere[i]).length;
    return { images, labelKept: images === 0 ? null : kept / images };
  };
  return {
    perturbations: perturbed.length,
    labelKept: n === 0 ? 1 : keptEverywhere.filter(Boolean).length / n,
    meanConfidenceChange: n === 0 || perturbed.length === 0 ? 0 : totalChange / (n * perturbed.length),
    perPerturbation,
    byBand: { green: keptIn('green'), orange: keptIn('orange'), red: keptIn('red') },
  };
}
