/**
 * Single mode's strip of the Grad-CAM++ maps across the network's depth
 * (GET /v1/instances/:id/explanations): step layer by layer ([ and ]) or play the animation
 * layers in turn (P) over the image, with the layer's name and depth shown. The grid keeps the
 * target layer's heatmap.
 */
import type { ExplanationLayerDto, ExplanationLayersDto, InstanceDto } from '@xray/shared';
import { h, setAttr, setText } from '../dom';

/** As the API's animated WebP: one frame every 0.9 s. */
export const FRAME_MS = 900;

export type LoadExplanations = (instanceId: string) => Promise<ExplanationLayersDto>;

export class LayerStrip {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly playButton: HTMLButtonElement;
  private readonly name: HTMLElement;
  private readonly depth: HTMLElement;
  private readonly note: HTMLElement;
  private instanceKey: string | null = null;
  private layers: ExplanationLayerDto[] = [];
  private layerCount = 0;
  private selected = -1;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly load: LoadExplanations,
    /** A layer was chosen (by key, click or the animation): redraw, showing the heatmap. */
    private readonly onSelect: () => void,
  ) {
    this.playButton = h(
      'button',
      {
        type: 'button',
        class: 'toggle layer-play',
        'aria-pressed': 'false',
        title: 'Play or pause the animation across layers (P)',
        onclick: () => this.togglePlay(),
      },
      '▶ Play',
    );
    this.name = h('span', { class: 'layer-name' });
    this.depth = h('span', { class: 'layer-depth muted small' });
    this.list = h('ol', { class: 'layer-list', 'aria-label': 'Layers, shallowest first' });
    this.note = h('p', { class: 'muted small layer-note' });
    this.element = h(
      'section',
      { class: 'panel-section layer-strip', 'aria-label': 'Grad-CAM++ across the network depth' },
      h('h3', {}, 'Across the network'),
      h(
        'div',
        { class: 'layer-controls', role: 'group', 'aria-label': 'Layer' },
        h(
          'button',
          {
            type: 'button',
            'aria-label': 'Shallower layer',
            title: 'Shallower layer ([)',
            onclick: () => this.step(-1),
          },
          '‹',
        ),
        this.playButton,
        h(
          'button',
          { type: 'button', 'aria-label': 'Deeper layer', title: 'Deeper layer (])', onclick: () => this.step(1) },
          '›',
        ),
      ),
      h('div', { class: 'layer-current', 'aria-live': 'polite' }, this.name, ' ', this.depth),
      this.list,
      this.note,
    );
    this.element.hidden = true;
  }

  /** The instance single mode shows; loads its layers once it is explained. */
  show(instance: InstanceDto, enabled: boolean): void {
    const explained = instance.explanation?.status === 'done';
    const key = explained ? `${instance.id}|${instance.explanation?.heatmapUrl}` : null;
    this.element.hidden = !explained || !enabled;
    if (key === this.instanceKey) return;
    this.instanceKey = key;
    this.stop();
    this.layers = [];
    this.selected = -1;
    this.draw();
    if (!key) return;
    setText(this.note, 'Loading the layers…');
    this.load(instance.id).then(
      (answer) => {
        if (this.instanceKey !== key) return;
        this.layers = answer.layers;
        this.layerCount = answer.layerCount;
        this.selected = answer.layers.findIndex((l) => l.target);
        setText(this.note, '');
        this.draw();
      },
      () => {
        if (this.instanceKey !== key) return;
        setText(this.note, 'No maps across depth for this image.');
      },
    );
  }

  /** The heatmap to lay over the image: the chosen layer's, or null for the target layer's stored heatmap. */
  heatmapUrl(): string | null {
    const layer = this.layers[this.selected];
    return layer && !layer.target ? layer.heatmapUrl : null;
  }

  /** The chosen layer's name ('' before the layers are loaded). */
  layerName(): string {
    return this.layers[this.selected]?.name ?? '';
  }

  step(delta: number): void {
    if (this.element.hidden || !this.layers.length) return;
    this.stop();
    this.choose(Math.min(this.layers.length - 1, Math.max(0, this.selected + delta)));
  }

  togglePlay(): void {
    if (this.element.hidden || !this.layers.length) return;
    if (this.timer) {
      this.stop();
      this.draw();
      return;
    }
    const frames = this.frames();
    this.choose(frames[0]);
    let frame = 0;
    this.timer = setInterval(() => {
      frame = (frame + 1) % frames.length;
      this.choose(frames[frame]);
    }, FRAME_MS);
    this.draw();
  }

  /** Leaving single mode or the page: no timer left running. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The animation layers, shallowest first (all layers when none is marked). */
  private frames(): number[] {
    const marked = this.layers.flatMap((l, i) => (l.animation ? [i] : []));
    return marked.length ? marked : this.layers.map((_, i) => i);
  }

  private choose(index: number): void {
    this.selected = index;
    this.draw();
    this.onSelect();
  }

  private draw(): void {
    const playing = this.timer !== null;
    setAttr(this.playButton, 'aria-pressed', String(playing));
    setText(this.playButton, playing ? '❚❚ Pause' : '▶ Play');
    const layer = this.layers[this.selected];
    setText(this.name, layer ? layer.name : '');
    setText(
      this.depth,
      layer
        ? `depth ${layer.depth + 1} of ${this.layerCount} · ${this.selected + 1}/${this.layers.length}${layer.target ? ' · target' : ''}`
        : '',
    );
    const items = this.layers.map((l, i) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: `layer-item${i === this.selected ? ' selected' : ''}`,
            'aria-current': i === this.selected ? 'true' : null,
            title: `${l.name}: ${l.mapShape[0]}×${l.mapShape[1]} map, depth ${l.depth + 1}`,
            onclick: () => {
              this.stop();
              this.choose(i);
            },
          },
          h('span', { class: 'layer-item-name' }, l.name),
          h('span', { class: 'muted small' }, ` ${l.mapShape[0]}×${l.mapShape[1]}${l.target ? ' · target' : ''}`),
        ),
      ),
    );
    const key = `${this.layers.map((l) => l.name).join('|')}#${this.selected}`;
    if (this.list.dataset.key !== key) {
      this.list.dataset.key = key;
      this.list.replaceChildren(...items);
    }
  }
}
