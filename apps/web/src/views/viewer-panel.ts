/** The viewer tab: mode switch and navigation, the review sidebar, and the single or grid view. */
import { h, setText } from '../dom';
import type { ImageCache } from '../image-cache';
import type { Mode, ViewerState } from '../viewer-state';
import { GridView } from './grid-view';
import type { LoadStudyDicom } from './dicom-export-panel';
import type { LoadExplanations } from './layer-strip';
import { ReviewSidebar } from './review-sidebar';
import { SingleView } from './single-view';

export class ViewerPanel {
  readonly element: HTMLElement;
  readonly single: SingleView;
  readonly grid: GridView;
  private readonly sidebar: ReviewSidebar;
  private readonly modeButtons: Map<Mode, HTMLButtonElement>;
  private readonly empty: HTMLElement;
  private readonly noMatch: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly progress: HTMLElement;

  constructor(
    private readonly state: ViewerState,
    cache: ImageCache,
    loadExplanations: LoadExplanations,
    loadStudyDicom: LoadStudyDicom,
  ) {
    this.single = new SingleView(state, cache, loadExplanations, loadStudyDicom);
    this.grid = new GridView(state, cache);
    this.sidebar = new ReviewSidebar(state);
    const modeButton = (mode: Mode, text: string) =>
      h(
        'button',
        {
          type: 'button',
          class: 'toggle',
          'aria-pressed': 'false',
          title: 'Switch single/grid (G)',
          onclick: () => state.setMode(mode),
        },
        text,
      );
    this.modeButtons = new Map([
      ['single', modeButton('single', 'Single')],
      ['grid', modeButton('grid', 'Grid')],
    ]);
    this.heading = h('h2', { class: 'viewer-heading' });
    // One polite summary instead of fifty announcing cards.
    this.progress = h('p', { class: 'processing-summary', 'aria-live': 'polite' });
    this.empty = h('p', { class: 'empty' }, 'No images open. Upload files, or open a study from History.');
    this.noMatch = h('p', { class: 'empty' }, 'No image matches the filters.');
    this.element = h(
      'div',
      { class: 'viewer' },
      h(
        'div',
        { class: 'toolbar' },
        this.heading,
        this.progress,
        h('div', { class: 'segmented', role: 'group', 'aria-label': 'View mode' }, ...this.modeButtons.values()),
        h('button', { type: 'button', class: 'secondary', onclick: () => state.closeAll() }, 'Close all'),
      ),
      h(
        'div',
        { class: 'viewer-body' },
        this.sidebar.element,
        h('div', { class: 'viewer-main' }, this.empty, this.noMatch, this.single.element, this.grid.element),
      ),
    );
  }

  render(): void {
    const { state } = this;
    const total = state.allItems().length;
    const shown = state.arranged().length;
    setText(
      this.heading,
      `${total} image${total === 1 ? '' : 's'} from ${state.openStudyIds.length} stud${state.openStudyIds.length === 1 ? 'y' : 'ies'}`,
    );
    setText(this.progress, processingSummary(state.allItems().map((item) => item.instance.status)));
    for (const [mode, button] of this.modeButtons) button.setAttribute('aria-pressed', String(state.mode === mode));
    this.empty.hidden = total > 0;
    this.noMatch.hidden = total === 0 || shown > 0;
    this.sidebar.render();
    const showSingle = state.mode === 'single' && shown > 0;
    this.single.element.hidden = !showSingle;
    this.grid.element.hidden = state.mode !== 'grid' || shown === 0;
    if (showSingle) this.single.render();
    if (state.mode === 'grid') this.grid.render();
    this.element.dataset.mode = state.mode;
  }
}

function processingSummary(statuses: string[]): string {
  const done = statuses.filter((s) => s === 'done').length;
  const failed = statuses.filter((s) => s === 'failed').length;
  const pending = statuses.length - done - failed;
  if (statuses.length === 0) return '';
  return [`${done} done`, failed ? `${failed} failed` : '', pending ? `${pending} in progress` : '']
    .filter(Boolean)
    .join(' · ');
}
