/** Confidence colour bands: green above `green`, orange above `orange`, red otherwise. */
export type ConfidenceBand = 'green' | 'orange' | 'red';

export interface BandThresholds {
  green: number;
  orange: number;
}

export const DEFAULT_BAND_THRESHOLDS: BandThresholds = { green: 0.9, orange: 0.7 };

export function confidenceBand(
  confidence: number,
  thresholds: BandThresholds = DEFAULT_BAND_THRESHOLDS,
): ConfidenceBand {
  if (confidence > thresholds.green) return 'green';
  if (confidence >= thresholds.orange) return 'orange';
  return 'red';
}
