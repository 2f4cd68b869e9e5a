import { seededRandom } from '@xray/shared';
import {
  applyPhotometric,
  DEFAULT_PHOTOMETRIC,
  drawPhotometric,
  IDENTITY_PHOTOMETRIC,
  perturbRendering,
  type PhotometricParams,
} from './photometric';

const W = 32;
const H = 24;

/** A grey test image with 8-bit levels: a ramp plus a bright square. */
function testGrey(): Float32Array {
  const grey = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      grey[y * W + x] = Math.round(40 + (160 * x) / (W - 1) + (x > 10 && x < 20 && y > 5 && y < 15 ? 50 : 0)) / 255;
  return grey;
}

const params = (change: Partial<PhotometricParams>): PhotometricParams => ({ ...IDENTITY_PHOTOMETRIC, ...change });
const mean = (values: Float32Array) => values.reduce((sum, v) => sum + v, 0) / values.length;
const std = (values: Float32Array) => {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / values.length);
};

describe('photometric augmentation', () => {
  it('is the plain min-max stretch, quantised to 8 bits, with identity parameters', () => {
    const grey = testGrey();
    const out = applyPhotometric(grey, W, H, IDENTITY_PHOTOMETRIC);
    const [min, max] = [Math.min(...grey), Math.max(...grey)];
    expect(Math.min(...out)).toBe(0);
    expect(Math.max(...out)).toBe(1);
    for (let i = 0; i < grey.length; i++) {
      expect(Math.abs(out[i] - (grey[i] - min) / (max - min))).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      expect(Math.round(out[i] * 255)).toBeCloseTo(out[i] * 255, 4);
    }
  });

  it('clips the darkest and brightest pixels in the VOI-clipped rendering', () => {
    const grey = testGrey();
    const plain = applyPhotometric(grey, W, H, IDENTITY_PHOTOMETRIC);
    const clipped = applyPhotometric(grey, W, H, params({ clipLow: 0.1, clipHigh: 0.1 }));
    const share = (values: Float32Array, v: number) => values.filter((x) => x === v).length / values.length;
    expect(share(clipped, 0)).toBeGreaterThanOrEqual(0.08);
    expect(share(clipped, 1)).toBeGreaterThanOrEqual(0.08);
    expect(share(plain, 0)).toBeLessThan(0.05);
    expect(std(clipped)).toBeGreaterThan(std(plain));
  });

  it('changes contrast, brightness and gamma in the expected direction', () => {
    const grey = testGrey();
    const base = applyPhotometric(grey, W, H, IDENTITY_PHOTOMETRIC);
    expect(std(applyPhotometric(grey, W, H, params({ contrast: 0.8 })))).toBeLessThan(std(base) * 0.85);
    expect(std(applyPhotometric(grey, W, H, params({ windowWidth: 1.25 })))).toBeLessThan(std(base) * 0.85);
    expect(mean(applyPhotometric(grey, W, H, params({ brightness: 0.05 })))).toBeGreaterThan(mean(base) + 0.04);
    expect(mean(applyPhotometric(grey, W, H, params({ gamma: 0.7 })))).toBeGreaterThan(mean(base) + 0.03);
    expect(mean(applyPhotometric(grey, W, H, params({ gamma: 1.4 })))).toBeLessThan(mean(base) - 0.03);
  });

  it('blurs without moving the mean, and adds seeded noise', () => {
    const grey = testGrey();
    const base = applyPhotometric(grey, W, H, IDENTITY_PHOTOMETRIC);
    const blurred = applyPhotometric(grey, W, H, params({ blurSigma: 1 }));
    expect(Math.abs(mean(blurred) - mean(base))).toBeLessThan(0.01);
    const edge = (values: Float32Array) => Math.abs(values[10 * W + 11] - values[10 * W + 10]);
    expect(edge(blurred)).toBeLessThan(edge(base) * 0.6);
    const noisy = applyPhotometric(grey, W, H, params({ noiseSigma: 0.05, noiseSeed: 7 }));
    const again = applyPhotometric(grey, W, H, params({ noiseSigma: 0.05, noiseSeed: 7 }));
    const other = applyPhotometric(grey, W, H, params({ noiseSigma: 0.05, noiseSeed: 8 }));
    expect(noisy).toEqual(again);
    expect(noisy).not.toEqual(other);
    const residual = noisy.map((v, i) => v - base[i]);
    expect(std(residual)).toBeGreaterThan(0.03);
    expect(std(residual)).toBeLessThan(0.07);
  });

  it('draws parameters inside the configured ranges, the same for the same seed', () => {
    const draws = Array.from({ length: 400 }, (_, i) => drawPhotometric(DEFAULT_PHOTOMETRIC, seededRandom(1000 + i)));
    expect(drawPhotometric(DEFAULT_PHOTOMETRIC, seededRandom(5))).toEqual(
      drawPhotometric(DEFAULT_PHOTOMETRIC, seededRandom(5)),
    );
    const c = DEFAULT_PHOTOMETRIC;
    for (const d of draws) {
      expect(Math.abs(d.contrast - 1)).toBeLessThanOrEqual(c.contrast);
      expect(Math.abs(d.brightness)).toBeLessThanOrEqual(c.brightness);
      expect(Math.abs(d.windowCentre)).toBeLessThanOrEqual(c.windowCentre);
      expect(Math.abs(d.windowWidth - 1)).toBeLessThanOrEqual(c.windowWidth);
      expect(d.gamma).toBeGreaterThanOrEqual(1 / (1 + c.gamma) - 1e-9);
      expect(d.gamma).toBeLessThanOrEqual(1 + c.gamma + 1e-9);
      expect(d.clipLow).toBeLessThanOrEqual(c.voiClip);
      expect(d.blurSigma === 0 || (d.blurSigma >= 0.3 && d.blurSigma <= c.blurSigma)).toBe(true);
      expect(d.noiseSigma).toBeLessThanOrEqual(c.noiseSigma);
    }
    const share = (test: (d: PhotometricParams) => boolean) => draws.filter(test).length / draws.length;
    expect(share((d) => d.clipLow > 0)).toBeCloseTo(c.voiProbability, 1);
    expect(share((d) => d.blurSigma > 0)).toBeCloseTo(c.blurProbability, 1);
    expect(share((d) => d.noiseSigma > 0)).toBeCloseTo(c.noiseProbability, 1);
  });

  it('changes a decoded 8-bit rendering at its own resolution, as applyPhotometric does', () => {
    const grey = testGrey();
    const pixels = Uint8Array.from(grey, (v) => Math.round(v * 255));
    const changed = perturbRendering(pixels, W, H, params({ contrast: 1.1, gamma: 0.8 }));
    const expected = applyPhotometric(grey, W, H, params({ contrast: 1.1, gamma: 0.8 }));
    expect(changed).toBeInstanceOf(Uint8Array);
    expect(Array.from(changed)).toEqual(Array.from(expected, (v) => Math.round(v * 255)));
    expect(Array.from(changed)).not.toEqual(Array.from(pixels));
  });
});
