/** Viewer shortcuts. Ignored while typing in a form field or with a modifier held. */
export interface ShortcutActions {
  step(delta: number): void;
  toggleHeatmap(): void;
  toggleMode(): void;
  toggleAnnotations(): void;
  zoom(factor: number | 'fit'): void;
  /** Single mode's layer strip: shallower (-1) / deeper (+1) layer. */
  stepLayer(delta: number): void;
  toggleLayerAnimation(): void;
  openSelected(): void;
  backToGrid(): void;
}

export const SHORTCUT_HELP =
  '← → previous/next · H heatmap · [ ] shallower/deeper layer · P play/pause layers · G single/grid · A hide annotations · + − 0 zoom · Enter open · Esc back to grid';

const TEXT_INPUTS = new Set(['text', 'search', 'password', 'email', 'url', 'number', 'tel']);

export function handleShortcut(event: KeyboardEvent, actions: ShortcutActions): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target as (HTMLElement & { type?: string }) | null;
  if (
    target &&
    (target.isContentEditable ||
      target.tagName === 'SELECT' ||
      target.tagName === 'TEXTAREA' ||
      (target.tagName === 'INPUT' && TEXT_INPUTS.has(target.type ?? 'text')))
  )
    return false;
  // Sliders and checkboxes keep their own keys (arrows, space); buttons keep Enter and space.
  if (target?.tagName === 'INPUT' && (event.key.startsWith('Arrow') || event.key === ' ' || event.key === 'Enter'))
    return false;
  if (target?.tagName === 'BUTTON' && (event.key === 'Enter' || event.key === ' ')) return false;
  switch (event.key) {
    case 'ArrowRight':
    case 'j':
      actions.step(1);
      return true;
    case 'ArrowLeft':
    case 'k':
      actions.step(-1);
      return true;
    case 'h':
    case 'H':
      actions.toggleHeatmap();
      return true;
    case 'g':
    case 'G':
      actions.toggleMode();
      return true;
    case 'a':
    case 'A':
      actions.toggleAnnotations();
      return true;
    case '+':
    case '=':
      actions.zoom(1.25);
      return true;
    case '-':
      actions.zoom(1 / 1.25);
      return true;
    case '0':
      actions.zoom('fit');
      return true;
    case '[':
      actions.stepLayer(-1);
      return true;
    case ']':
      actions.stepLayer(1);
      return true;
    case 'p':
    case 'P':
      actions.toggleLayerAnimation();
      return true;
    case 'Enter':
      actions.openSelected();
      return true;
    case 'Escape':
      actions.backToGrid();
      return true;
    default:
      return false;
  }
}
