import { colouriseGrey } from './heatmap-colour';

describe('colouriseGrey', () => {
  it('maps grey intensities to jet colours, low activations transparent', () => {
    const rgba = new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255, 128, 128, 128, 255]);
    expect(colouriseGrey(rgba)).toBe(true);
    expect([...rgba.slice(0, 4)]).toEqual([0, 0, 128, 0]); // zero: dark blue, invisible
    expect([...rgba.slice(4, 8)]).toEqual([128, 0, 0, 255]); // max: dark red, opaque
    expect(rgba[9]).toBeGreaterThan(200); // middle: green
    expect(rgba[11]).toBe(255);
  });

  it('leaves colour heatmaps untouched', () => {
    const rgba = new Uint8ClampedArray([0, 0, 0, 255, 255, 0, 0, 255]);
    expect(colouriseGrey(rgba)).toBe(false);
    expect([...rgba]).toEqual([0, 0, 0, 255, 255, 0, 0, 255]);
  });
});
