/** Single mode: one large image with zoom/pan, its prediction, top-5, Grad-CAM++ and DICOM facts. */
import type { InstanceDto, StudyDto } from '@xray/shared';
import { h, setAttr, setText } from '../dom';
import { bytes, statusText } from '../format';
import type { ImageCache } from '../image-cache';
import { checkRegistration, describeMismatch } from '@xray/shared';
import type { ViewerState } from '../viewer-state';
import { DicomExportPanel, type LoadStudyDicom } from './dicom-export-panel';
import { LayerStrip, type LoadExplanations } from './layer-strip';
import { confidenceBadge, top5Bars } from './prediction';
import { Radiograph } from './radiograph';
import { ZoomPan } from './zoom-pan';

export class SingleView {
  readonly element: HTMLElement;
  private readonly radiograph: Radiograph;
  private readonly zoom: ZoomPan;
  private readonly zoomLabel: HTMLElement;
  private readonly position: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly status: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly heatmapButton: HTMLButtonElement;
  private readonly opacity: HTMLInputElement;
  private readonly heatmapNote: HTMLElement;
  private readonly heatmapControls: HTMLElement;
  private readonly layerStrip: LayerStrip;
  private shownId: string | null = null;
  private factsKey = '';
  private readonly exports: DicomExportPanel;

  constructor(
    private readonly state: ViewerState,
    cache: ImageCache,
    loadExplanations: LoadExplanations,
    loadStudyDicom: LoadStudyDicom,
  ) {
    this.exports = new DicomExportPanel(loadStudyDicom);
    this.layerStrip = new LayerStrip(loadExplanations, () => this.layerChosen());
    this.radiograph = new Radiograph(cache, { lazy: false, className: 'single-radiograph' });
    const viewport = h(
      'div',
      {
        class: 'viewport',
        tabindex: '0',
        'aria-label': 'Image: scroll or + and - to zoom, drag to pan, double-click or 0 to fit',
      },
      this.radiograph.element,
    );
    this.zoomLabel = h('output', { class: 'zoom-level', 'aria-live': 'polite' }, '100 %');
    new ResizeObserver(([entry]) => this.radiograph.fitInto(entry.contentRect.width, entry.contentRect.height)).observe(
      viewport,
    );
    this.zoom = new ZoomPan(viewport, this.radiograph.element, (scale) =>
      setText(this.zoomLabel, `${Math.round(scale * 100)} %`),
    );
    const zoomControls = h(
      'div',
      { class: 'zoom-controls', role: 'group', 'aria-label': 'Zoom' },
      h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => this.zoom.zoomBy(1 / 1.25) }, '−'),
      this.zoomLabel,
      h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => this.zoom.zoomBy(1.25) }, '+'),
      h('button', { type: 'button', onclick: () => this.zoom.reset() }, 'Fit'),
    );

    this.position = h('span', { class: 'position', 'aria-live': 'polite' });
    const nav = h(
      'div',
      { class: 'single-nav' },
      h(
        'button',
        { type: 'button', 'aria-label': 'Previous image', title: 'Previous image (←)', onclick: () => state.step(-1) },
        '‹ Previous',
      ),
      this.position,
      h(
        'button',
        { type: 'button', 'aria-label': 'Next image', title: 'Next image (→)', onclick: () => state.step(1) },
        'Next ›',
      ),
    );
    this.heading = h('h2', { class: 'single-title' });
    this.status = h('div', { class: 'single-status', role: 'status' });
    this.heatmapButton = h(
      'button',
      {
        type: 'button',
        class: 'toggle heatmap-toggle',
        'aria-pressed': 'false',
        title: 'Show or hide the heatmap (H)',
        onclick: () => this.toggleHeatmap(),
      },
      'Grad-CAM++ heatmap',
    );
    this.opacity = h('input', {
      type: 'range',
      min: '0',
      max: '100',
      step: '5',
      id: 'single-opacity',
      class: 'opacity',
      oninput: () => state.setHeatmapOpacity(Number(this.opacity.value) / 100),
    });
    this.heatmapNote = h('p', { class: 'muted small' });
    this.heatmapControls = h(
      'section',
      { class: 'panel-section', 'aria-label': 'Grad-CAM++' },
      this.heatmapButton,
      h('label', { for: 'single-opacity', class: 'opacity-label' }, 'Heatmap opacity'),
      this.opacity,
      this.heatmapNote,
      this.layerStrip.element,
    );
    this.summary = h('div', { class: 'single-summary' });
    this.facts = h('div', { class: 'single-facts' });
    this.element = h(
      'section',
      { class: 'single', 'aria-label': 'Single image' },
      h('div', { class: 'single-stage' }, viewport, zoomControls),
      h(
        'aside',
        { class: 'details', 'aria-label': 'Image details' },
        nav,
        this.heading,
        this.status,
        this.summary,
        this.heatmapControls,
        this.facts,
        this.exports.element,
      ),
    );
  }

  zoomBy(factor: number): void {
    this.zoom.zoomBy(factor);
  }

  resetZoom(): void {
    this.zoom.reset();
  }

  /** [ and ]: the previous / next layer of the strip. */
  stepLayer(delta: number): void {
    this.layerStrip.step(delta);
  }

  /** P: play or pause the animation across layers. */
  toggleLayerAnimation(): void {
    this.layerStrip.togglePlay();
  }

  render(): void {
    const { state } = this;
    const item = state.selected();
    if (!item) return;
    const { instance, study } = item;
    if (instance.id !== this.shownId) {
      this.shownId = instance.id;
      this.zoom.reset();
    }
    const items = state.arranged();
    setText(this.position, `${items.findIndex((i) => i.instance.id === instance.id) + 1} of ${items.length}`);
    setText(this.heading, instance.filename);
    setText(this.status, statusText(instance));
    this.status.className = `single-status status-${instance.status}`;
    this.element.classList.toggle('annotations-hidden', state.annotationsHidden);

    // A failed image has nothing to explain: no heatmap controls.
    this.heatmapControls.hidden = instance.status === 'failed';
    const explained = instance.explanation?.status === 'done' && !!instance.explanation.heatmapUrl;
    const on = state.heatmapOn.has(instance.id) && explained && !state.annotationsHidden;
    this.layerStrip.show(instance, !state.annotationsHidden);
    this.radiograph.update(instance, { show: on, opacity: state.heatmapOpacity, url: this.layerStrip.heatmapUrl() });
    this.heatmapButton.disabled = !explained || state.annotationsHidden;
    setAttr(this.heatmapButton, 'aria-pressed', String(on));
    const opacity = String(Math.round(state.heatmapOpacity * 100));
    if (this.opacity.value !== opacity) this.opacity.value = opacity;
    setAttr(this.opacity, 'aria-valuetext', `${opacity} %`);
    const layerShown = this.layerStrip.heatmapUrl() ? this.layerStrip.layerName() : null;
    setText(
      this.heatmapNote,
      layerShown
        ? `Shows layer ${layerShown}; the heatmap explains at ${instance.explanation?.layer}.`
        : heatmapNote(instance),
    );

    this.exports.show(study);
    const key = `${instance.id}|${instance.updatedAt}|${instance.status}|${state.annotationsHidden}`;
    if (key !== this.factsKey) {
      this.factsKey = key;
      this.summary.replaceChildren(...summary(instance, state.annotationsHidden));
      this.facts.replaceChildren(...facts(study, instance, state.annotationsHidden));
    }
  }

  /** A layer was chosen: show it (turning the heatmap on), or stop the animation once single mode is left. */
  private layerChosen(): void {
    if (this.element.hidden) {
      this.layerStrip.stop();
      return;
    }
    const id = this.state.selected()?.instance.id;
    if (id && !this.state.heatmapOn.has(id)) this.state.toggleHeatmap(id);
    else this.render();
  }

  private toggleHeatmap(): void {
    const id = this.state.selected()?.instance.id;
    if (id) this.state.toggleHeatmap(id);
  }
}

function heatmapNote(instance: InstanceDto): string {
  const explanation = instance.explanation;
  if (explanation?.status === 'done')
    return explanation.layer ? `Explains the prediction at layer ${explanation.layer}.` : '';
  if (explanation?.status === 'failed') return 'The heatmap could not be computed.';
  if (instance.status === 'failed') return '';
  return 'The heatmap is being computed…';
}

/** The prediction first: on a tablet it must be visible without scrolling past the controls. */
function summary(instance: InstanceDto, annotationsHidden: boolean): Node[] {
  const p = instance.prediction;
  if (annotationsHidden) return [h('p', { class: 'muted' }, 'Annotations are hidden.')];
  if (!p) return [];
  const mismatches = describeMismatch(checkRegistration(instance.dicom, p.label), p.label);
  return [
    h('div', { class: 'single-prediction' }, h('span', { class: 'label big' }, p.label), confidenceBadge(p)),
    mismatches.length
      ? h(
          'div',
          { class: 'flag-banner', role: 'alert' },
          h('strong', {}, '⚠ Possible registration error. '),
          mismatches.join(' '),
        )
      : null,
  ].filter((n): n is HTMLDivElement => n !== null);
}

function facts(study: StudyDto, instance: InstanceDto, annotationsHidden: boolean): Node[] {
  const nodes: Node[] = [];
  const p = instance.prediction;
  if (p && !annotationsHidden) nodes.push(h('section', { class: 'panel-section' }, h('h3', {}, 'Top 5'), top5Bars(p)));
  const d = instance.dicom;
  const rows: [string, string | number | null | undefined][] = [
    ['Accession number', study.accessionNumber],
    ['Priority', study.priority],
    ['Format', instance.format?.toUpperCase()],
    ['Size', instance.size ? bytes(instance.size) : undefined],
    ['Modality', d?.modality],
    ['Body part examined', d?.bodyPartExamined],
    ['Study description', d?.studyDescription],
    ['Series description', d?.seriesDescription],
    ['Photometric', d?.photometricInterpretation],
    ['Matrix', d?.rows && d?.columns ? `${d.columns} × ${d.rows}` : undefined],
    ['Study UID', d?.studyInstanceUid],
    ['Series UID', d?.seriesInstanceUid],
    ['SOP Instance UID', d?.sopInstanceUid],
    ['Transfer syntax', d?.transferSyntaxUid],
    ['Model', instance.model ? `${instance.model.name} ${instance.model.version}` : undefined],
  ];
  const present = rows.filter(
    (row): row is [string, string | number] => row[1] !== null && row[1] !== undefined && row[1] !== '',
  );
  nodes.push(
    h(
      'section',
      { class: 'panel-section' },
      h('h3', {}, d ? 'DICOM and study' : 'Study'),
      h(
        'dl',
        { class: 'facts' },
        ...present.flatMap(([name, value]) => [
          h('dt', {}, name),
          h('dd', { class: name.endsWith('UID') || name === 'Transfer syntax' ? 'uid' : '' }, String(value)),
        ]),
      ),
    ),
  );
  return nodes;
}
