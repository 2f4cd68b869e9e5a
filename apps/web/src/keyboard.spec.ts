import { handleShortcut, type ShortcutActions } from './keyboard';

function press(
  key: string,
  target: Partial<HTMLElement> = { tagName: 'BODY' },
  modifiers: Partial<KeyboardEvent> = {},
) {
  const calls: string[] = [];
  const actions: ShortcutActions = {
    step: (d) => calls.push(`step ${d}`),
    toggleHeatmap: () => calls.push('heatmap'),
    toggleMode: () => calls.push('mode'),
    toggleAnnotations: () => calls.push('annotations'),
    zoom: (f) => calls.push(`zoom ${f}`),
    stepLayer: (d) => calls.push(`layer ${d}`),
    toggleLayerAnimation: () => calls.push('play'),
    openSelected: () => calls.push('open'),
    backToGrid: () => calls.push('grid'),
  };
  const handled = handleShortcut(
    { key, target, ctrlKey: false, metaKey: false, altKey: false, ...modifiers } as unknown as KeyboardEvent,
    actions,
  );
  return { handled, calls };
}

describe('handleShortcut', () => {
  it.each([
    ['ArrowRight', 'step 1'],
    ['ArrowLeft', 'step -1'],
    ['j', 'step 1'],
    ['h', 'heatmap'],
    ['g', 'mode'],
    ['a', 'annotations'],
    ['+', 'zoom 1.25'],
    ['0', 'zoom fit'],
    ['[', 'layer -1'],
    [']', 'layer 1'],
    ['p', 'play'],
    ['Enter', 'open'],
    ['Escape', 'grid'],
  ])('%s -> %s', (key, call) => {
    expect(press(key)).toEqual({ handled: true, calls: [call] });
  });

  it('leaves typing in form fields, modified keys and button activation alone', () => {
    expect(press('h', { tagName: 'INPUT' }).handled).toBe(false);
    expect(press('h', { tagName: 'INPUT', type: 'search' } as Partial<HTMLElement>).handled).toBe(false);
    expect(press('ArrowRight', { tagName: 'SELECT' }).handled).toBe(false);
    expect(press('g', { tagName: 'BODY' }, { ctrlKey: true }).handled).toBe(false);
    expect(press('Enter', { tagName: 'BUTTON' }).handled).toBe(false);
    expect(press('x').handled).toBe(false);
  });

  it('lets sliders and checkboxes keep their arrows and space, but not the letter keys', () => {
    const slider = { tagName: 'INPUT', type: 'range' } as Partial<HTMLElement>;
    expect(press('ArrowRight', slider).handled).toBe(false);
    expect(press(' ', slider).handled).toBe(false);
    expect(press('h', slider).calls).toEqual(['heatmap']);
    expect(press('Escape', slider).calls).toEqual(['grid']);
  });
});
