import sharp from 'sharp';
import type { GradCamMap } from '../engine';
import { renderAnimation, renderHeatmapPng, renderOverlayPng, turbo, upsampleToImage } from './heatmap';

const spec = {
  width: 4,
  height: 4,
  channels: 3 as const,
  normalization: 'minus1to1' as const,
  resize: 'stretch' as const,
};
// 2x2 map: hot in the top-left cell only.
const cam: GradCamMap = { classIndex: 0, layer: 'x', mapShape: [2, 2], map: Float32Array.from([1, 0, 0, 0.2]) };

describe('heatmap rendering', () => {
  it('upsamples bilinearly with pixel centres aligned', () => {
    const up = upsampleToImage(cam, spec, 4, 4);
    // Map cell centres fall at image pixels 0.5..1 / 2.5..3: corners keep the cell value.
    expect(up[0]).toBeCloseTo(1);
    expect(up[15]).toBeCloseTo(0.2);
    expect(up[1]).toBeCloseTo(0.75);
    expect(up[2]).toBeCloseTo(0.25);
    expect(up[5]).toBeCloseTo(0.75 * 0.75 + 0.25 * 0.25 * 0.2);
    const values = Array.from(up);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
  });

  it('with letterbox, stretches only the part of the map that covers the image', () => {
    // A 4x2 (wide) image letterboxed into 4x4 occupies rows 1..2; a map hot only in rows 1..2.
    const map: GradCamMap = {
      classIndex: 0,
      layer: 'x',
      mapShape: [4, 4],
      map: Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),
    };
    const up = upsampleToImage(map, { ...spec, resize: 'letterbox' }, 4, 2);
    expect(Array.from(up)).toEqual(new Array(8).fill(1));
    const stretched = upsampleToImage(map, spec, 4, 2);
    expect(stretched[0]).toBeLessThan(1);
  });

  it('uses the turbo colormap: near-black at 0, blue when low, dark red at 1', () => {
    expect(Math.max(...turbo(0))).toBeLessThan(40);
    const [r0, , b0] = turbo(0.2);
    const [r1, g1, b1] = turbo(1);
    expect(b0).toBeGreaterThan(r0);
    expect(r1).toBeGreaterThan(b1);
    expect(r1).toBeGreaterThan(g1);
  });

  it('writes heatmap and overlay PNGs at the original resolution and an animated GIF', async () => {
    const image = { width: 30, height: 20, pixels: new Uint8Array(600).fill(128) };
    const heat = await sharp(await renderHeatmapPng(cam, spec, image)).metadata();
    expect([heat.format, heat.width, heat.height]).toEqual(['png', 30, 20]);
    const overlay = await renderOverlayPng(cam, spec, image);
    const { data } = await sharp(overlay).raw().toBuffer({ resolveWithObject: true });
    // Top-left is hot (red wins), bottom-right low (0.2: blue wins); grey shows through both.
    expect(data[0]).toBeGreaterThan(data[2]);
    const last = data.length - 3;
    expect(data[last + 2]).toBeGreaterThan(data[last]);
    expect(data[last]).toBeGreaterThan(0.5 * 128);
    const gif = await sharp(
      await renderAnimation([cam, { ...cam, map: Float32Array.from([0, 0, 0, 1]) }], spec, image, { delayMs: 500 }),
      { animated: true },
    ).metadata();
    expect([gif.format, gif.pages, gif.width, gif.pageHeight, gif.delay]).toEqual(['gif', 2, 30, 20, [500, 500]]);
    const frames = [0, 0.5, 1].map((v) => ({ ...cam, map: Float32Array.from([v, 0, 0, 1 - v]) }));
    const webp = await sharp(await renderAnimation(frames, spec, image, { format: 'webp' }), {
      animated: true,
    }).metadata();
    expect([webp.format, webp.pages]).toEqual(['webp', 3]);
  });
});
