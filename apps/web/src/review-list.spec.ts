import { arrangeReview, labelCounts, NO_FILTER, reviewItems, type ReviewFilter } from './review-list';
import { instanceDto, studyDto } from './testing/dto';

const study = studyDto('s1', [
  instanceDto('a', { label: 'Chest', confidence: 0.97 }),
  instanceDto('b'),
  instanceDto('c', { label: 'Hand', confidence: 0.62 }),
  instanceDto('d', { label: 'Chest', confidence: 0.8, dicom: { bodyPartExamined: 'HAND' } }),
  instanceDto('e', { label: 'Knee', confidence: 0.62 }),
]);
const items = reviewItems([study, studyDto('s2', [instanceDto('f', { label: 'Skull', confidence: 0.91 })])]);
const ids = (filter: ReviewFilter, order: Parameters<typeof arrangeReview>[2]) =>
  arrangeReview(items, filter, order).map((i) => i.instance.id);

describe('arrangeReview', () => {
  it('keeps upload order across studies by default', () => {
    expect(ids(NO_FILTER, 'upload')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('sorts least confident first, ties in upload order, unpredicted images last', () => {
    expect(ids(NO_FILTER, 'least-confident')).toEqual(['c', 'e', 'd', 'f', 'a', 'b']);
    expect(ids(NO_FILTER, 'most-confident')).toEqual(['a', 'f', 'd', 'c', 'e', 'b']);
    expect(ids(NO_FILTER, 'label')).toEqual(['a', 'd', 'c', 'e', 'f', 'b']);
  });

  it('filters by label, by band (including images without a result) and by registration flag', () => {
    expect(ids({ ...NO_FILTER, labels: new Set(['Chest']) }, 'upload')).toEqual(['a', 'd']);
    expect(ids({ ...NO_FILTER, bands: new Set(['red', 'none'] as const) }, 'upload')).toEqual(['b', 'c', 'e']);
    expect(ids({ ...NO_FILTER, labels: new Set(['Chest']), bands: new Set(['green'] as const) }, 'upload')).toEqual([
      'a',
    ]);
    expect(ids({ ...NO_FILTER, flaggedOnly: true }, 'upload')).toEqual(['d']);
  });

  it('does not mutate its input', () => {
    const before = items.map((i) => i.instance.id);
    arrangeReview(items, NO_FILTER, 'least-confident');
    expect(items.map((i) => i.instance.id)).toEqual(before);
  });
});

describe('labelCounts', () => {
  it('counts predicted labels alphabetically', () => {
    expect(labelCounts(items)).toEqual([
      ['Chest', 2],
      ['Hand', 1],
      ['Knee', 1],
      ['Skull', 1],
    ]);
  });
});
