/**
 * One radiograph with its Grad-CAM++ heatmap laid over it in the browser (the heatmap PNG is
 * stretched over the image's box; its opacity is a CSS variable). Used by the grid and single views.
 */
import type { InstanceDto } from '@xray/shared';
import { h, setAttr, setText } from '../dom';
import type { ImageCache } from '../image-cache';

const RETRY_AFTER_MS = 15_000;

/**
 * An <img> fed from the cache that knows which URL it shows, so an image is never displayed
 * under another image's label while the next one downloads.
 */
class Layer {
  private requested: string | null = null;
  private shown: string | null = null;
  /**
   * The failed URL and the instance state it failed in: retried once that state changes or,
   * for passing trouble (rate limit, network), after a while; never in a tight loop.
   */
  private failed: { key: string; at: number } | null = null;

  constructor(
    readonly img: HTMLImageElement,
    private readonly cache: ImageCache,
    private readonly onChange: () => void,
  ) {}

  want(url: string | null, state: string): void {
    if (
      url === this.requested ||
      (url && this.failed?.key === `${url}|${state}` && Date.now() - this.failed.at < RETRY_AFTER_MS)
    )
      return;
    this.requested = url;
    if (!url) return;
    this.cache.get(url).then(
      (src) => {
        if (this.requested !== url) return;
        this.img.src = src;
        this.shown = url;
        this.onChange();
      },
      () => {
        if (this.requested !== url) return;
        this.requested = null;
        this.failed = { key: `${url}|${state}`, at: Date.now() };
        this.onChange();
      },
    );
  }

  showing(url: string | null): boolean {
    return url !== null && this.shown === url;
  }

  hasFailed(url: string | null): boolean {
    return url !== null && !!this.failed?.key.startsWith(`${url}|`) && this.requested !== url;
  }
}

export class Radiograph {
  readonly element: HTMLDivElement;
  private readonly image: Layer;
  private readonly heatmap: Layer;
  private readonly placeholder: HTMLSpanElement;
  private visible: boolean;
  private instance: InstanceDto | null = null;
  private showHeatmap = false;
  private heatmapOverride: string | null = null;
  private box: { width: number; height: number } | null = null;

  /** `lazy`: nothing is downloaded until `reveal()` (called when it scrolls into view). */
  constructor(cache: ImageCache, options: { lazy: boolean; className: string }) {
    this.visible = !options.lazy;
    const image = h('img', { class: 'radiograph-image', alt: '', draggable: 'false', decoding: 'async', hidden: true });
    const heatmap = h('img', {
      class: 'radiograph-heatmap',
      alt: '',
      'aria-hidden': 'true',
      draggable: 'false',
      hidden: true,
    });
    this.image = new Layer(image, cache, () => this.sync());
    this.heatmap = new Layer(heatmap, cache, () => this.sync());
    this.placeholder = h('span', { class: 'radiograph-placeholder' }, 'Loading image…');
    this.element = h('div', { class: `radiograph ${options.className}` }, this.placeholder, image, heatmap);
    image.addEventListener('load', () => this.applyFit());
  }

  /** Scales the image (up or down, keeping its aspect) to fit a box; the heatmap follows its size. */
  fitInto(width: number, height: number): void {
    this.box = { width, height };
    this.applyFit();
  }

  reveal(): void {
    if (this.visible) return;
    this.visible = true;
    this.load();
  }

  /** `heatmap.url`: another heatmap of the instance than its explanation's (a layer of the strip). */
  update(instance: InstanceDto, heatmap: { show: boolean; opacity: number; url?: string | null }): void {
    this.instance = instance;
    this.heatmapOverride = heatmap.url ?? null;
    this.showHeatmap = heatmap.show;
    this.element.style.setProperty('--heatmap-opacity', String(heatmap.opacity));
    this.load();
  }

  private heatmapUrl(): string | null {
    const explanation = this.instance?.explanation;
    if (this.heatmapOverride && explanation?.status === 'done') return this.heatmapOverride;
    return explanation?.status === 'done' ? explanation.heatmapUrl : null;
  }

  private load(): void {
    if (this.visible && this.instance) {
      const state = `${this.instance.status}|${this.instance.updatedAt}`;
      this.image.want(this.instance.imageUrl, state);
      // Heatmaps download only once someone asks to see them.
      if (this.showHeatmap) this.heatmap.want(this.heatmapUrl(), state);
    }
    this.sync();
  }

  private sync(): void {
    const instance = this.instance;
    const imageUrl = instance?.imageUrl ?? null;
    const imageShown = this.image.showing(imageUrl);
    const heatmapShown = imageShown && this.showHeatmap && this.heatmap.showing(this.heatmapUrl());
    this.image.img.hidden = !imageShown;
    this.heatmap.img.hidden = !heatmapShown;
    this.placeholder.hidden = imageShown;
    if (!imageShown)
      setText(
        this.placeholder,
        this.image.hasFailed(imageUrl)
          ? instance?.status === 'failed'
            ? 'No image'
            : 'Image not available yet'
          : 'Loading image…',
      );
    if (instance) {
      const prediction = instance.prediction ? `, predicted ${instance.prediction.label}` : '';
      setAttr(
        this.image.img,
        'alt',
        `Radiograph ${instance.filename}${prediction}${heatmapShown ? ', with Grad-CAM++ heatmap' : ''}`,
      );
    }
  }

  private applyFit(): void {
    const { naturalWidth: w, naturalHeight: h } = this.image.img;
    if (!this.box || !w || !h) return;
    const scale = Math.min(this.box.width / w, this.box.height / h);
    this.image.img.style.width = `${Math.floor(w * scale)}px`;
    this.image.img.style.height = `${Math.floor(h * scale)}px`;
  }
}
