/** Wheel or buttons to zoom (around the pointer), drag to pan, double-click to fit. */
const MIN = 1;
const MAX = 8;

export class ZoomPan {
  private scale = 1;
  private x = 0;
  private y = 0;
  private drag: { pointerId: number; x: number; y: number } | null = null;

  constructor(
    private readonly viewport: HTMLElement,
    private readonly target: HTMLElement,
    private readonly onZoom: (scale: number) => void,
  ) {
    viewport.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const rect = viewport.getBoundingClientRect();
        this.zoomAt(
          this.scale * Math.exp(-event.deltaY * 0.0015),
          event.clientX - rect.left - rect.width / 2,
          event.clientY - rect.top - rect.height / 2,
        );
      },
      { passive: false },
    );
    viewport.addEventListener('pointerdown', (event) => {
      if (this.scale === 1 || event.button !== 0) return;
      this.drag = { pointerId: event.pointerId, x: event.clientX - this.x, y: event.clientY - this.y };
      viewport.setPointerCapture(event.pointerId);
      viewport.classList.add('dragging');
    });
    viewport.addEventListener('pointermove', (event) => {
      if (this.drag?.pointerId !== event.pointerId) return;
      this.x = event.clientX - this.drag.x;
      this.y = event.clientY - this.drag.y;
      this.apply();
    });
    const endDrag = () => {
      this.drag = null;
      viewport.classList.remove('dragging');
    };
    viewport.addEventListener('pointerup', endDrag);
    viewport.addEventListener('pointercancel', endDrag);
    viewport.addEventListener('dblclick', () => this.reset());
  }

  /** Zooms by `factor` around the centre (buttons and keys). */
  zoomBy(factor: number): void {
    this.zoomAt(this.scale * factor, 0, 0);
  }

  reset(): void {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
  }

  /** (cx, cy): the fixed point, relative to the viewport's centre. */
  private zoomAt(next: number, cx: number, cy: number): void {
    const scale = Math.min(MAX, Math.max(MIN, next));
    const ratio = scale / this.scale;
    this.x = cx - (cx - this.x) * ratio;
    this.y = cy - (cy - this.y) * ratio;
    this.scale = scale;
    if (scale === 1) this.x = this.y = 0;
    this.apply();
  }

  private apply(): void {
    this.target.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    this.onZoom(this.scale);
  }
}
