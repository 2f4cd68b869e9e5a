/** Grid mode: every arranged image as a card, several per row. Cards are kept and reordered, never rebuilt. */
import { h } from '../dom';
import type { ImageCache } from '../image-cache';
import type { ViewerState } from '../viewer-state';
import { ImageCard } from './image-card';

export class GridView {
  readonly element: HTMLElement;
  private readonly cards = new Map<string, ImageCard>();
  private readonly observer: IntersectionObserver;
  private order = '';
  private cardBox: { width: number; height: number } | null = null;

  constructor(
    private readonly state: ViewerState,
    private readonly cache: ImageCache,
  ) {
    this.element = h('div', { class: 'grid', role: 'list', 'aria-label': 'Images' });
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          this.cards.get((entry.target as HTMLElement).dataset.instanceId ?? '')?.radiograph.reveal();
          this.observer.unobserve(entry.target);
        }
      },
      { rootMargin: '400px' },
    );
    // Every card has the same image box: measure one, fit all.
    new ResizeObserver(() => this.measureCards()).observe(this.element);
  }

  private measureCards(): void {
    const box = this.element.querySelector('.card-image');
    if (!box || box.clientWidth === 0) return;
    this.cardBox = { width: box.clientWidth, height: box.clientHeight };
    for (const card of this.cards.values()) card.radiograph.fitInto(this.cardBox.width, this.cardBox.height);
  }

  render(): void {
    const { state } = this;
    const items = state.arranged();
    const selectedId = state.selected()?.instance.id;
    for (const { instance } of items) {
      let card = this.cards.get(instance.id);
      if (!card) {
        card = new ImageCard(instance.id, this.cache, {
          select: (id) => state.select(id),
          open: (id) => {
            state.select(id);
            state.setMode('single');
          },
          toggleHeatmap: (id) => state.toggleHeatmap(id),
        });
        card.element.setAttribute('role', 'listitem');
        this.cards.set(instance.id, card);
        this.observer.observe(card.element);
        if (this.cardBox) card.radiograph.fitInto(this.cardBox.width, this.cardBox.height);
      }
      card.update({
        instance,
        heatmap: state.heatmapOn.has(instance.id),
        opacity: state.heatmapOpacity,
        selected: instance.id === selectedId,
        annotationsHidden: state.annotationsHidden,
      });
    }
    const order = items.map((item) => item.instance.id).join(',');
    if (order !== this.order) {
      this.order = order;
      this.element.replaceChildren(...items.flatMap((item) => this.cards.get(item.instance.id)?.element ?? []));
      this.forgetClosedCards();
      if (!this.cardBox) this.measureCards();
    }
  }

  private forgetClosedCards(): void {
    const open = new Set(this.state.allItems().map((item) => item.instance.id));
    for (const [id, card] of this.cards) {
      if (open.has(id)) continue;
      this.observer.unobserve(card.element);
      this.cards.delete(id);
    }
  }

  /** Keeps the keyboard selection visible and focused. */
  focusSelected(): void {
    const id = this.state.selected()?.instance.id;
    const card = id ? this.cards.get(id) : undefined;
    card?.element.focus({ preventScroll: true });
    card?.element.scrollIntoView({ block: 'nearest' });
  }
}
