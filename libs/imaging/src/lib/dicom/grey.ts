import type { WindowUsed } from '../types';
import type { Samples } from './samples';
import { applyModality, applyVoi, type ModalityTransform, type VoiTransform } from './transforms';

export interface GreyFrame {
  samples: Samples;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
}

export interface GreyPipeline {
  modality: ModalityTransform;
  voi: VoiTransform | null;
  /** Pixel Padding Value (and Range Limit), in stored values: excluded from statistics, rendered black. */
  padding: { low: number; high: number } | null;
  /** MONOCHROME1: lowest value is white, so invert to make bone bright. */
  invert: boolean;
}

/**
 * Without a VOI in the file the window spans these percentiles of the (non-padding) modality
 * values. 0..100 (min-max) is what the training PNGs show: their MONOCHROME1 radiographs are
 * not clipped at either end (docs/imaging.md, "How the rendering matches the training PNGs").
 */
export const PERCENTILE_WINDOW = { low: 0, high: 100 } as const;

/**
 * Renders a greyscale frame to 8 bits: stored value -> modality LUT -> VOI (file's own, else
 * the percentile window) -> linear stretch of the result over 0..255 -> MONOCHROME1 inverted.
 *
 * Every pixel goes through one table indexed by the raw sample word (2^8 or 2^16 entries),
 * built from a histogram, so the per-pixel work is one lookup whatever the LUT chain.
 */
export function renderGrey(frame: GreyFrame, pipeline: GreyPipeline): { pixels: Uint8Array; window: WindowUsed } {
  if (frame.bitsAllocated === 32) {
    const requantized = requantize32(frame, pipeline);
    return renderGrey(requantized.frame, requantized.pipeline);
  }
  const { samples } = frame;
  const wordCount = frame.bitsAllocated === 16 ? 65536 : 256;
  const histogram = new Uint32Array(wordCount);
  for (let i = 0; i < samples.length; i++) histogram[samples[i]]++;

  const shift = frame.highBit + 1 - frame.bitsStored;
  const mask = frame.bitsStored >= 32 ? 0xffffffff : 2 ** frame.bitsStored - 1;
  const signBit = 2 ** (frame.bitsStored - 1);
  const storedOf = (word: number): number => {
    const v = (word >>> shift) & mask;
    return frame.signed && v >= signBit ? v - 2 * signBit : v;
  };
  const isPadding = (stored: number): boolean =>
    pipeline.padding !== null && stored >= pipeline.padding.low && stored <= pipeline.padding.high;

  // Modality values of the words present in the frame, padding left out.
  const present: number[] = [];
  const modal = new Float64Array(wordCount);
  for (let word = 0; word < wordCount; word++) {
    if (histogram[word] === 0) continue;
    const stored = storedOf(word);
    if (isPadding(stored)) continue;
    modal[word] = applyModality(pipeline.modality, stored);
    present.push(word);
  }

  let voi: (x: number) => number;
  let window: WindowUsed;
  if (pipeline.voi) {
    const t = pipeline.voi;
    voi = (x) => applyVoi(t, x);
    window =
      t.kind === 'window'
        ? { center: t.center, width: t.width, source: 'window-tags' }
        : { center: t.lut.firstMapped + t.lut.data.length / 2, width: t.lut.data.length, source: 'voi-lut-sequence' };
  } else {
    const [lo, hi] = percentiles(present, modal, histogram);
    voi = (x) => (hi > lo ? Math.min(1, Math.max(0, (x - lo) / (hi - lo))) : 0);
    window = { center: (lo + hi) / 2, width: hi - lo, source: 'percentile' };
  }

  const value = new Float64Array(wordCount);
  let vMin = Infinity;
  let vMax = -Infinity;
  for (const word of present) {
    const v = voi(modal[word]);
    value[word] = v;
    if (v < vMin) vMin = v;
    if (v > vMax) vMax = v;
  }
  const table = new Uint8Array(wordCount); // padding and absent words stay 0 (black)
  const span = vMax - vMin;
  for (const word of present) {
    const level = span > 0 ? Math.round(((value[word] - vMin) / span) * 255) : 0;
    table[word] = pipeline.invert ? 255 - level : level;
  }
  const pixels = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) pixels[i] = table[samples[i]];
  return { pixels, window };
}

/** The values at PERCENTILE_WINDOW.low/high of the histogram, in modality units. */
function percentiles(present: number[], modal: Float64Array, histogram: Uint32Array): [number, number] {
  if (present.length === 0) return [0, 0];
  const order = [...present].sort((a, b) => modal[a] - modal[b]);
  let total = 0;
  for (const word of order) total += histogram[word];
  const lowCount = (total * PERCENTILE_WINDOW.low) / 100;
  const highCount = (total * PERCENTILE_WINDOW.high) / 100;
  let lo = modal[order[0]];
  let hi = modal[order[order.length - 1]];
  let seen = 0;
  let loFound = false;
  for (const word of order) {
    seen += histogram[word];
    if (!loFound && seen > lowCount) {
      lo = modal[word];
      loFound = true;
    }
    if (seen >= highCount) {
      hi = modal[word];
      break;
    }
  }
  return [lo, hi];
}

/**
 * 32-bit samples (RT dose, some secondary captures) are mapped linearly onto 16 bits first,
 * folding the mapping into the modality stage so that values keep their meaning.
 */
function requantize32(frame: GreyFrame, pipeline: GreyPipeline): { frame: GreyFrame; pipeline: GreyPipeline } {
  const stored = (i: number): number => (frame.signed ? frame.samples[i] | 0 : frame.samples[i]);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < frame.samples.length; i++) {
    const s = stored(i);
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  if (!(hi > lo)) hi = lo + 1;
  const step = (hi - lo) / 65535;
  const samples = new Uint16Array(frame.samples.length);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round((stored(i) - lo) / step);
  const m = pipeline.modality;
  const [slope, intercept] = m.kind === 'rescale' ? [m.slope, m.intercept] : [1, 0];
  return {
    frame: { samples, bitsAllocated: 16, bitsStored: 16, highBit: 15, signed: false },
    pipeline: {
      ...pipeline,
      modality: { kind: 'rescale', slope: slope * step, intercept: intercept + slope * lo },
      padding: pipeline.padding && {
        low: Math.ceil((pipeline.padding.low - lo) / step),
        high: Math.floor((pipeline.padding.high - lo) / step),
      },
    },
  };
}
