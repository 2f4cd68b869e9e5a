/** One image in the grid: thumbnail, label, coloured confidence, status, its own heatmap toggle. */
import type { InstanceDto } from '@xray/shared';
import { h, setAttr, setText } from '../dom';
import { statusText } from '../format';
import type { ImageCache } from '../image-cache';
import { checkRegistration, describeMismatch } from '@xray/shared';
import { confidenceBadge } from './prediction';
import { Radiograph } from './radiograph';

export interface CardActions {
  select(id: string): void;
  open(id: string): void;
  toggleHeatmap(id: string): void;
}

export interface CardView {
  instance: InstanceDto;
  heatmap: boolean;
  opacity: number;
  selected: boolean;
  annotationsHidden: boolean;
}

export class ImageCard {
  readonly element: HTMLElement;
  readonly radiograph: Radiograph;
  private readonly title: HTMLElement;
  private readonly prediction: HTMLElement;
  private readonly status: HTMLElement;
  private readonly flag: HTMLElement;
  private readonly heatmapButton: HTMLButtonElement;
  private predictionKey = '';

  constructor(
    readonly id: string,
    cache: ImageCache,
    actions: CardActions,
  ) {
    this.radiograph = new Radiograph(cache, { lazy: true, className: 'card-radiograph' });
    this.title = h('h3', { class: 'card-title' });
    this.prediction = h('div', { class: 'card-prediction' });
    this.status = h('div', { class: 'card-status' });
    this.flag = h('div', { class: 'flag', hidden: true });
    this.heatmapButton = h(
      'button',
      {
        type: 'button',
        class: 'toggle heatmap-toggle',
        'aria-pressed': 'false',
        onclick: () => actions.toggleHeatmap(id),
      },
      'Grad-CAM++',
    );
    const openButton = h('button', { type: 'button', class: 'secondary', onclick: () => actions.open(id) }, 'Open');
    this.element = h(
      'article',
      {
        class: 'card',
        tabindex: '-1',
        'data-instance-id': id,
        onclick: () => actions.select(id),
        ondblclick: () => actions.open(id),
      },
      h('div', { class: 'card-image' }, this.radiograph.element),
      h(
        'div',
        { class: 'card-body' },
        this.title,
        this.prediction,
        this.flag,
        this.status,
        h('div', { class: 'card-actions' }, this.heatmapButton, openButton),
      ),
    );
  }

  update(view: CardView): void {
    const { instance } = view;
    this.radiograph.update(instance, { show: view.heatmap && !view.annotationsHidden, opacity: view.opacity });
    setText(this.title, instance.filename);
    setAttr(this.title, 'title', instance.filename);
    setAttr(
      this.element,
      'aria-label',
      `${instance.filename}: ${instance.prediction ? `${instance.prediction.label}, ` : ''}${statusText(instance)}`,
    );
    this.element.classList.toggle('selected', view.selected);
    this.element.classList.toggle('annotations-hidden', view.annotationsHidden);

    const p = instance.prediction;
    const key = p ? `${p.label}|${p.confidence}|${p.band}` : '';
    if (key !== this.predictionKey) {
      this.predictionKey = key;
      this.prediction.replaceChildren(
        ...(p
          ? [h('span', { class: 'label' }, p.label), confidenceBadge(p)]
          : [h('span', { class: 'muted' }, 'No prediction yet')]),
      );
      const mismatches = p ? describeMismatch(checkRegistration(instance.dicom, p.label), p.label) : [];
      this.flag.hidden = mismatches.length === 0;
      setText(this.flag, mismatches.length ? '⚠ Check registration' : '');
      setAttr(this.flag, 'title', mismatches.length ? mismatches.join(' ') : null);
    }
    setText(this.status, statusText(instance));
    this.status.className = `card-status status-${instance.status}`;

    const explained = instance.explanation?.status === 'done' && !!instance.explanation.heatmapUrl;
    this.heatmapButton.disabled = !explained || view.annotationsHidden;
    setAttr(this.heatmapButton, 'aria-pressed', String(view.heatmap && explained));
    setAttr(this.heatmapButton, 'aria-label', `Grad-CAM++ heatmap for ${instance.filename}`);
    setAttr(
      this.heatmapButton,
      'title',
      explained ? 'Show or hide the Grad-CAM++ heatmap (H)' : 'The heatmap is not ready',
    );
  }
}
