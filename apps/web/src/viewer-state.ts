/** Everything the page shows, in one place; views read it and call its methods. No DOM. */
import type { InstanceStatusEvent, StudyDto } from '@xray/shared';
import { isFinished } from './format';
import {
  arrangeReview,
  NO_FILTER,
  reviewItems,
  type ReviewFilter,
  type ReviewItem,
  type SortOrder,
} from './review-list';

export type Tab = 'upload' | 'viewer' | 'history';
export type Mode = 'single' | 'grid';

export class ViewerState {
  tab: Tab = 'upload';
  mode: Mode = 'grid';
  /** Studies shown in the viewer, in the order they were uploaded or opened. */
  openStudyIds: string[] = [];
  /** Studies uploaded in this session, newest first (the upload panel lists them). */
  uploadedStudyIds: string[] = [];
  readonly studies = new Map<string, StudyDto>();
  selectedId: string | null = null;
  /** Images whose Grad-CAM++ heatmap is shown. */
  readonly heatmapOn = new Set<string>();
  heatmapOpacity = 0.5;
  /** Hides labels, confidences and heatmaps for an unbiased read of the images. */
  annotationsHidden = false;
  filter: ReviewFilter = NO_FILTER;
  sort: SortOrder = 'upload';

  private readonly listeners = new Set<() => void>();
  private arrangedCache: { key: unknown[]; items: ReviewItem[] } | null = null;
  private dataVersion = 0;

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Call after changing any field directly. */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  upsertStudy(study: StudyDto): void {
    this.studies.set(study.id, study);
    this.dataVersion++;
    this.changed();
  }

  /** A live status event: the status changes at once, the rest comes with the next fetch. */
  applyStatus(event: InstanceStatusEvent): void {
    const study = this.studies.get(event.studyId);
    const index = study?.instances.findIndex((i) => i.id === event.instanceId) ?? -1;
    if (!study || index < 0 || study.instances[index].status === event.status) return;
    const instances = study.instances.slice();
    instances[index] = { ...instances[index], status: event.status };
    this.upsertStudy({ ...study, instances });
  }

  /** Studies still being processed, among those the page shows. */
  activeStudyIds(): string[] {
    const ids = new Set([...this.openStudyIds, ...this.uploadedStudyIds]);
    return [...ids].filter((id) => {
      const study = this.studies.get(id);
      return !study || study.instances.some((i) => !isFinished(i.status));
    });
  }

  /** Opens studies in the viewer: `replace` for one picked from history, append after an upload. */
  openStudies(ids: string[], options: { replace: boolean; mode?: Mode }): void {
    this.openStudyIds = options.replace ? [...ids] : [...this.openStudyIds.filter((id) => !ids.includes(id)), ...ids];
    this.tab = 'viewer';
    if (options.mode) this.mode = options.mode;
    this.dataVersion++;
    // Start at the first image of what was just opened (the arranged order may put it elsewhere).
    this.selectedId = this.studies.get(ids[0])?.instances[0]?.id ?? this.arranged()[0]?.instance.id ?? null;
    this.changed();
  }

  closeAll(): void {
    this.openStudyIds = [];
    this.selectedId = null;
    this.dataVersion++;
    this.changed();
  }

  /** Every image of the open studies, unfiltered. */
  allItems(): ReviewItem[] {
    return reviewItems(this.openStudyIds.flatMap((id) => this.studies.get(id) ?? []));
  }

  /** The open images as filtered and sorted in the sidebar; memoised between renders. */
  arranged(): ReviewItem[] {
    const key = [this.dataVersion, this.filter, this.sort];
    const cached = this.arrangedCache;
    if (cached && key.every((k, i) => k === cached.key[i])) return cached.items;
    const items = arrangeReview(this.allItems(), this.filter, this.sort);
    this.arrangedCache = { key, items };
    return items;
  }

  selected(): ReviewItem | null {
    const items = this.arranged();
    return items.find((item) => item.instance.id === this.selectedId) ?? items[0] ?? null;
  }

  select(instanceId: string): void {
    this.selectedId = instanceId;
    this.changed();
  }

  /** Next (+1) or previous (-1) image in the arranged order; stays at the ends. */
  step(delta: number): void {
    const items = this.arranged();
    if (items.length === 0) return;
    const current = items.findIndex((item) => item.instance.id === this.selected()?.instance.id);
    const next = Math.min(items.length - 1, Math.max(0, current + delta));
    this.select(items[next].instance.id);
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.changed();
  }

  /** 0 (invisible) to 1 (opaque); one opacity for every heatmap. */
  setHeatmapOpacity(opacity: number): void {
    this.heatmapOpacity = Math.min(1, Math.max(0, opacity));
    this.changed();
  }

  toggleAnnotations(): void {
    this.annotationsHidden = !this.annotationsHidden;
    this.changed();
  }

  toggleHeatmap(instanceId: string, on = !this.heatmapOn.has(instanceId)): void {
    if (on) this.heatmapOn.add(instanceId);
    else this.heatmapOn.delete(instanceId);
    this.changed();
  }

  setAllHeatmaps(on: boolean): void {
    if (on) for (const { instance } of this.arranged()) this.heatmapOn.add(instance.id);
    else this.heatmapOn.clear();
    this.changed();
  }
}
