/** Global controls for the open images: Grad-CAM++ on all, hide all, filters by label and band, sorting. */
import { h, setText } from '../dom';
import { labelCounts, SORT_ORDERS, type BandFilter, type SortOrder } from '../review-list';
import type { ViewerState } from '../viewer-state';

const BAND_OPTIONS: { value: BandFilter; name: string }[] = [
  { value: 'green', name: 'High' },
  { value: 'orange', name: 'Medium' },
  { value: 'red', name: 'Low' },
  { value: 'none', name: 'No result' },
];
const BAND_RANGES: Record<BandFilter, string> = { green: '> 90 %', orange: '70–90 %', red: '< 70 %', none: '' };

export class ReviewSidebar {
  readonly element: HTMLElement;
  private readonly hideAll: HTMLButtonElement;
  private readonly opacity: HTMLInputElement;
  private readonly sort: HTMLSelectElement;
  private readonly labels: HTMLElement;
  private readonly bandBoxes = new Map<BandFilter, HTMLInputElement>();
  private readonly flaggedOnly: HTMLInputElement;
  private readonly summary: HTMLElement;
  private labelsKey = '';

  constructor(private readonly state: ViewerState) {
    this.hideAll = h(
      'button',
      {
        type: 'button',
        class: 'toggle',
        'aria-pressed': 'false',
        title: 'Hide labels, confidences and heatmaps for an unbiased read (A)',
        onclick: () => state.toggleAnnotations(),
      },
      'Hide all annotations',
    );
    this.opacity = h('input', {
      type: 'range',
      min: '0',
      max: '100',
      step: '5',
      id: 'global-opacity',
      class: 'opacity',
      oninput: () => state.setHeatmapOpacity(Number(this.opacity.value) / 100),
    });
    this.sort = h(
      'select',
      { id: 'sort-order', onchange: () => this.setSort() },
      ...SORT_ORDERS.map((o) => h('option', { value: o.value }, o.name)),
    );
    const bands = BAND_OPTIONS.map(({ value, name }) => {
      const box = h('input', { type: 'checkbox', value, onchange: () => this.setBands() });
      this.bandBoxes.set(value, box);
      return h(
        'label',
        { class: 'check band-filter' },
        box,
        h('span', { class: `dot band-${value}`, 'aria-hidden': 'true' }),
        `${name} `,
        h('span', { class: 'muted' }, BAND_RANGES[value]),
      );
    });
    this.flaggedOnly = h('input', { type: 'checkbox', onchange: () => this.setFlagged() });
    this.labels = h('div', { class: 'label-filters' });
    this.summary = h('p', { class: 'summary', 'aria-live': 'polite' });

    this.element = h(
      'aside',
      { class: 'sidebar', 'aria-label': 'Review controls' },
      h(
        'section',
        { class: 'panel-section' },
        h('h2', {}, 'Grad-CAM++'),
        h(
          'div',
          { class: 'button-row' },
          h('button', { type: 'button', onclick: () => state.setAllHeatmaps(true) }, 'Show on all'),
          h('button', { type: 'button', onclick: () => state.setAllHeatmaps(false) }, 'Hide on all'),
        ),
        h('label', { for: 'global-opacity', class: 'opacity-label' }, 'Heatmap opacity'),
        this.opacity,
        this.hideAll,
      ),
      h('section', { class: 'panel-section' }, h('h2', {}, h('label', { for: 'sort-order' }, 'Sort')), this.sort),
      h('fieldset', { class: 'panel-section' }, h('legend', {}, 'Confidence'), ...bands),
      h('fieldset', { class: 'panel-section label-fieldset' }, h('legend', {}, 'Body part'), this.labels),
      h(
        'section',
        { class: 'panel-section' },
        h('label', { class: 'check' }, this.flaggedOnly, 'Only registration warnings'),
      ),
      this.summary,
    );
  }

  render(): void {
    const { state } = this;
    this.hideAll.setAttribute('aria-pressed', String(state.annotationsHidden));
    const opacity = String(Math.round(state.heatmapOpacity * 100));
    if (this.opacity.value !== opacity) this.opacity.value = opacity;
    this.opacity.setAttribute('aria-valuetext', `${opacity} %`);
    if (this.sort.value !== state.sort) this.sort.value = state.sort;
    for (const [band, box] of this.bandBoxes) box.checked = state.filter.bands.has(band);
    this.flaggedOnly.checked = state.filter.flaggedOnly;

    const all = state.allItems();
    const counts = labelCounts(all);
    const key = JSON.stringify(counts) + [...state.filter.labels].join('|');
    if (key !== this.labelsKey) {
      this.labelsKey = key;
      this.labels.replaceChildren(
        ...(counts.length
          ? counts.map(([label, count]) =>
              h(
                'label',
                { class: 'check' },
                h('input', {
                  type: 'checkbox',
                  value: label,
                  checked: state.filter.labels.has(label),
                  onchange: () => this.setLabels(),
                }),
                `${label} `,
                h('span', { class: 'muted' }, `(${count})`),
              ),
            )
          : [h('p', { class: 'muted small' }, 'No predictions yet.')]),
      );
    }
    setText(this.summary, `Showing ${state.arranged().length} of ${all.length} images`);
  }

  private setSort(): void {
    this.state.sort = this.sort.value as SortOrder;
    this.state.changed();
  }

  private setBands(): void {
    const bands = new Set([...this.bandBoxes].filter(([, box]) => box.checked).map(([band]) => band));
    this.state.filter = { ...this.state.filter, bands };
    this.state.changed();
  }

  private setLabels(): void {
    const labels = new Set(
      [...this.labels.querySelectorAll<HTMLInputElement>('input:checked')].map((box) => box.value),
    );
    this.state.filter = { ...this.state.filter, labels };
    this.state.changed();
  }

  private setFlagged(): void {
    this.state.filter = { ...this.state.filter, flaggedOnly: this.flaggedOnly.checked };
    this.state.changed();
  }
}
