/** The list of images under review: flattening studies, filtering and sorting. Pure, no DOM. */
import type { ConfidenceBand, InstanceDto, StudyDto } from '@xray/shared';
import { checkRegistration } from '@xray/shared';

export interface ReviewItem {
  study: StudyDto;
  instance: InstanceDto;
}

/** `none`: no prediction (yet, or the image failed). */
export type BandFilter = ConfidenceBand | 'none';

export type SortOrder = 'upload' | 'least-confident' | 'most-confident' | 'label';

export const SORT_ORDERS: { value: SortOrder; name: string }[] = [
  { value: 'upload', name: 'Upload order' },
  { value: 'least-confident', name: 'Least confident first' },
  { value: 'most-confident', name: 'Most confident first' },
  { value: 'label', name: 'Body part (A-Z)' },
];

export interface ReviewFilter {
  /** Predicted labels to keep; empty keeps all. */
  labels: ReadonlySet<string>;
  /** Bands to keep; empty keeps all. */
  bands: ReadonlySet<BandFilter>;
  /** Keep only images whose DICOM header disagrees with the prediction. */
  flaggedOnly: boolean;
}

export const NO_FILTER: ReviewFilter = { labels: new Set(), bands: new Set(), flaggedOnly: false };

export function reviewItems(studies: readonly StudyDto[]): ReviewItem[] {
  return studies.flatMap((study) => study.instances.map((instance) => ({ study, instance })));
}

function bandOf(instance: InstanceDto): BandFilter {
  return instance.prediction?.band ?? 'none';
}

function isFlagged(instance: InstanceDto): boolean {
  return checkRegistration(instance.dicom, instance.prediction?.label).status === 'mismatch';
}

function keeps(filter: ReviewFilter, instance: InstanceDto): boolean {
  if (filter.labels.size > 0 && !(instance.prediction && filter.labels.has(instance.prediction.label))) return false;
  if (filter.bands.size > 0 && !filter.bands.has(bandOf(instance))) return false;
  return !filter.flaggedOnly || isFlagged(instance);
}

/** Images without a prediction always sort after those with one, in upload order. */
function compare(order: SortOrder, a: InstanceDto, b: InstanceDto): number {
  const pa = a.prediction;
  const pb = b.prediction;
  if (order === 'upload' || (!pa && !pb)) return 0;
  if (!pa || !pb) return pa ? -1 : 1;
  if (order === 'least-confident') return pa.confidence - pb.confidence;
  if (order === 'most-confident') return pb.confidence - pa.confidence;
  return pa.label.localeCompare(pb.label) || pb.confidence - pa.confidence;
}

/** Filters then sorts (stable, so ties keep upload order). */
export function arrangeReview(items: readonly ReviewItem[], filter: ReviewFilter, order: SortOrder): ReviewItem[] {
  return items.filter((item) => keeps(filter, item.instance)).sort((a, b) => compare(order, a.instance, b.instance));
}

/** Predicted labels present in the list with how many images have each, alphabetically. */
export function labelCounts(items: readonly ReviewItem[]): [label: string, count: number][] {
  const counts = new Map<string, number>();
  for (const { instance } of items) {
    if (instance.prediction) counts.set(instance.prediction.label, (counts.get(instance.prediction.label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}
