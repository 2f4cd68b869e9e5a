import type { DataSet } from 'dicom-parser';
import type { WindowUsed } from '../types';
import { readLut, type Lut } from './lut';
import type { Samples } from './samples';

/**
 * Colour to greyscale: RGB by Rec. 601 luma (0.299 R + 0.587 G + 0.114 B, as PIL's "L"
 * and sharp's greyscale), YBR by its Y component. Colour content is shown as stored
 * (scaled to 8 bits, no window): colour objects carry no VOI.
 */
export function colourToGrey(
  samples: Samples,
  pixelCount: number,
  photometric: string,
  planar: boolean,
  bitsStored: number,
): { pixels: Uint8Array; window: WindowUsed } {
  const pixels = new Uint8Array(pixelCount);
  const max = 2 ** Math.min(bitsStored, 32) - 1;
  const to8 = 255 / max;
  if (photometric === 'YBR_FULL_422' && samples.length === pixelCount * 2) {
    // Uncompressed 4:2:2: Y1 Y2 Cb Cr for each pair of pixels.
    for (let i = 0; i < pixelCount; i++) pixels[i] = Math.round(samples[(i >> 1) * 4 + (i & 1)] * to8);
  } else {
    const at = planar
      ? (pixel: number, channel: number) => samples[channel * pixelCount + pixel]
      : (pixel: number, channel: number) => samples[pixel * 3 + channel];
    const luma = photometric.startsWith('YBR');
    for (let i = 0; i < pixelCount; i++) {
      const y = luma ? at(i, 0) : 0.299 * at(i, 0) + 0.587 * at(i, 1) + 0.114 * at(i, 2);
      pixels[i] = Math.min(255, Math.round(y * to8));
    }
  }
  return { pixels, window: { center: (max + 1) / 2, width: max + 1, source: 'none' } };
}

export interface Palette {
  red: Lut;
  green: Lut;
  blue: Lut;
}

/** Palette Color LUTs (PS3.3 C.7.6.3.1.5); null when absent or segmented (then indices render as grey). */
export function readPalette(ds: DataSet): Palette | null {
  const red = readLut(ds, 'x00281101', 'x00281201', false);
  const green = readLut(ds, 'x00281102', 'x00281202', false);
  const blue = readLut(ds, 'x00281103', 'x00281203', false);
  return red && green && blue ? { red, green, blue } : null;
}

export function paletteToGrey(indices: Samples, palette: Palette): { pixels: Uint8Array; window: WindowUsed } {
  const channel = (lut: Lut, index: number): number => {
    const i = Math.min(Math.max(index - lut.firstMapped, 0), lut.data.length - 1);
    return lut.data[i] / (2 ** lut.bits - 1);
  };
  // One table over the index range: the per-pixel work is a lookup.
  const size = indices instanceof Uint8Array ? 256 : 65536;
  const table = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const y = 0.299 * channel(palette.red, i) + 0.587 * channel(palette.green, i) + 0.114 * channel(palette.blue, i);
    table[i] = Math.min(255, Math.round(y * 255));
  }
  const pixels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) pixels[i] = table[indices[i]];
  return { pixels, window: { center: 128, width: 256, source: 'none' } };
}
