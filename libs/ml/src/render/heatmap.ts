import sharp from 'sharp';
import type { PreprocessingSpec } from '@xray/shared';
import type { GradCamMap } from '../engine';

/** The original image as decoded (8-bit grey, row-major), at its own resolution. */
export interface GreyImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Turbo colormap (Google, 2019), polynomial fit; t in [0, 1] -> RGB bytes. */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const poly = (c: number[]) => c.reduceRight((acc, k) => acc * x + k, 0);
  const r = poly([0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943]);
  const g = poly([0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604]);
  const b = poly([0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973]);
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [byte(r), byte(g), byte(b)];
}

/**
 * The map resampled onto the original image's pixel grid (bilinear, pixel centres aligned).
 * The map covers the model input; with `letterbox` the image sits centred inside it, so only
 * that part of the map is stretched over the image.
 */
export function upsampleToImage(
  cam: Pick<GradCamMap, 'map' | 'mapShape'>,
  spec: Pick<PreprocessingSpec, 'width' | 'height' | 'resize'>,
  width: number,
  height: number,
): Float32Array {
  const [mh, mw] = cam.mapShape;
  let [left, top, contentW, contentH] = [0, 0, spec.width, spec.height];
  if (spec.resize === 'letterbox') {
    const scale = Math.min(spec.width / width, spec.height / height);
    contentW = Math.round(width * scale);
    contentH = Math.round(height * scale);
    left = Math.floor((spec.width - contentW) / 2);
    top = Math.floor((spec.height - contentH) / 2);
  }
  const out = new Float32Array(width * height);
  const sample = (v: number, size: number) => {
    const c = Math.min(size - 1, Math.max(0, v));
    const i0 = Math.floor(c);
    return [i0, Math.min(size - 1, i0 + 1), c - i0] as const;
  };
  for (let y = 0; y < height; y++) {
    // Image pixel centre -> model input coordinates -> map coordinates (pixel centres at +0.5).
    const my = ((top + ((y + 0.5) * contentH) / height) * mh) / spec.height - 0.5;
    const [y0, y1, fy] = sample(my, mh);
    for (let x = 0; x < width; x++) {
      const mx = ((left + ((x + 0.5) * contentW) / width) * mw) / spec.width - 0.5;
      const [x0, x1, fx] = sample(mx, mw);
      const topRow = cam.map[y0 * mw + x0] * (1 - fx) + cam.map[y0 * mw + x1] * fx;
      const bottomRow = cam.map[y1 * mw + x0] * (1 - fx) + cam.map[y1 * mw + x1] * fx;
      out[y * width + x] = topRow * (1 - fy) + bottomRow * fy;
    }
  }
  return out;
}

/** turbo() at 256 levels: a heatmap needs no finer steps, and a lookup is far cheaper per pixel. */
const TURBO_LUT = Uint8Array.from({ length: 256 * 3 }, (_, i) => turbo(Math.floor(i / 3) / 255)[i % 3]);

/** Heatmaps are re-rendered cheaply on demand, so favour encoding speed over the last bytes of size. */
const PNG_OPTIONS = { compressionLevel: 3 } as const;

function colourise(values: Float32Array, image: GreyImage | undefined, opacity: number): Buffer {
  const rgb = Buffer.alloc(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const level = 3 * Math.round(255 * Math.min(1, Math.max(0, values[i])));
    const [r, g, b] = [TURBO_LUT[level], TURBO_LUT[level + 1], TURBO_LUT[level + 2]];
    const grey = image ? image.pixels[i] : 0;
    const a = image ? opacity : 1;
    rgb[3 * i] = Math.round(grey * (1 - a) + r * a);
    rgb[3 * i + 1] = Math.round(grey * (1 - a) + g * a);
    rgb[3 * i + 2] = Math.round(grey * (1 - a) + b * a);
  }
  return rgb;
}

export interface RenderOptions {
  /** How strongly the heatmap covers the image in overlays (default 0.45). */
  opacity?: number;
}

/** Heatmap PNG (turbo colormap) at the original image's resolution and aspect ratio. */
export function renderHeatmapPng(
  cam: GradCamMap,
  spec: PreprocessingSpec,
  image: Pick<GreyImage, 'width' | 'height'>,
): Promise<Buffer> {
  const values = upsampleToImage(cam, spec, image.width, image.height);
  return sharp(colourise(values, undefined, 1), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png(PNG_OPTIONS)
    .toBuffer();
}

/** The heatmap blended over the original image (its own resolution), as PNG. */
export function renderOverlayPng(
  cam: GradCamMap,
  spec: PreprocessingSpec,
  image: GreyImage,
  options: RenderOptions = {},
): Promise<Buffer> {
  const values = upsampleToImage(cam, spec, image.width, image.height);
  return sharp(colourise(values, image, options.opacity ?? 0.45), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png(PNG_OPTIONS)
    .toBuffer();
}

/**
 * An animated GIF (or WebP) of overlays across successive layers (e.g. the last concat of
 * conv3, conv4 and conv5 blocks), so that one sees how attention sharpens. Frames are scaled
 * so that the longer side is at most `maxSide` pixels (default 512).
 */
export async function renderAnimation(
  cams: GradCamMap[],
  spec: PreprocessingSpec,
  image: GreyImage,
  options: RenderOptions & { format?: 'gif' | 'webp'; delayMs?: number; maxSide?: number } = {},
): Promise<Buffer> {
  const scale = Math.min(1, (options.maxSide ?? 512) / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const small: GreyImage =
    scale === 1
      ? image
      : {
          width,
          height,
          pixels: new Uint8Array(
            await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 1 } })
              .resize(width, height)
              .raw()
              .toBuffer(),
          ),
        };
  const frames = await Promise.all(cams.map((cam) => renderOverlayPng(cam, spec, small, options)));
  const animation = sharp(frames, { join: { animated: true } });
  const delay = cams.map(() => options.delayMs ?? 900); // per frame (a single number sets the first only)
  return (
    options.format === 'webp' ? animation.webp({ loop: 0, delay }) : animation.gif({ loop: 0, delay })
  ).toBuffer();
}
