import { instanceDto, studyDto } from './testing/dto';
import { ViewerState } from './viewer-state';

function stateWith(...studies: ReturnType<typeof studyDto>[]): ViewerState {
  const state = new ViewerState();
  for (const study of studies) state.upsertStudy(study);
  return state;
}

describe('ViewerState', () => {
  const first = studyDto('s1', [
    instanceDto('a', { label: 'Chest', confidence: 0.95 }),
    instanceDto('b', { status: 'classifying' }),
  ]);
  const second = studyDto('s2', [instanceDto('c', { label: 'Hand', confidence: 0.6 })]);

  it('appends uploaded studies and replaces them with one opened from history', () => {
    const state = stateWith(first, second);
    state.openStudies(['s1'], { replace: false, mode: 'single' });
    state.openStudies(['s2'], { replace: false });
    expect(state.allItems().map((i) => i.instance.id)).toEqual(['a', 'b', 'c']);
    expect(state.selected()?.instance.id).toBe('c'); // the upload just opened
    expect(state.mode).toBe('single');
    expect(state.tab).toBe('viewer');
    state.openStudies(['s2'], { replace: true, mode: 'grid' });
    expect(state.allItems().map((i) => i.instance.id)).toEqual(['c']);
    expect(state.selected()?.instance.id).toBe('c');
  });

  it('steps through the arranged (filtered, sorted) images and stops at the ends', () => {
    const state = stateWith(first, second);
    state.openStudies(['s1', 's2'], { replace: true });
    state.sort = 'least-confident';
    state.changed();
    expect(state.arranged().map((i) => i.instance.id)).toEqual(['c', 'a', 'b']);
    state.select('c');
    state.step(1);
    expect(state.selected()?.instance.id).toBe('a');
    state.step(5);
    expect(state.selected()?.instance.id).toBe('b');
    state.step(-9);
    expect(state.selected()?.instance.id).toBe('c');
  });

  it('applies live status events to the open study and re-arranges', () => {
    const state = stateWith(first);
    state.openStudies(['s1'], { replace: true });
    const seen: string[] = [];
    state.onChange(() => seen.push(state.allItems()[1].instance.status));
    state.applyStatus({ clientId: 'c', studyId: 's1', instanceId: 'b', status: 'explaining', at: '' });
    state.applyStatus({ clientId: 'c', studyId: 's1', instanceId: 'b', status: 'explaining', at: '' });
    state.applyStatus({ clientId: 'c', studyId: 'unknown', instanceId: 'b', status: 'done', at: '' });
    expect(seen).toEqual(['explaining']);
  });

  it('watches only studies that are still being processed', () => {
    const state = stateWith(first, second);
    state.openStudies(['s1', 's2'], { replace: true });
    state.uploadedStudyIds.push('s3'); // uploaded, not fetched yet
    expect(state.activeStudyIds()).toEqual(['s1', 's3']);
  });

  it('shows and hides heatmaps one by one or on all arranged images', () => {
    const state = stateWith(first, second);
    state.openStudies(['s1', 's2'], { replace: true });
    state.toggleHeatmap('a');
    expect([...state.heatmapOn]).toEqual(['a']);
    state.toggleHeatmap('a');
    expect(state.heatmapOn.size).toBe(0);
    state.setAllHeatmaps(true);
    expect([...state.heatmapOn].sort()).toEqual(['a', 'b', 'c']);
    state.setAllHeatmaps(false);
    expect(state.heatmapOn.size).toBe(0);
  });
});
