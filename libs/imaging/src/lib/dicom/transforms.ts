import type { DataSet } from 'dicom-parser';
import { lookUp, readSequenceLut, type Lut } from './lut';

/** Modality LUT stage (PS3.3 C.11.1): stored value -> modality value. */
export type ModalityTransform = { kind: 'rescale'; slope: number; intercept: number } | { kind: 'lut'; lut: Lut };

/** VOI LUT stage (PS3.3 C.11.2): modality value -> 0..1. */
export type VoiTransform =
  | { kind: 'window'; center: number; width: number; fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' }
  | { kind: 'lut'; lut: Lut };

export function readModalityTransform(ds: DataSet, signed: boolean): ModalityTransform {
  const lut = readSequenceLut(ds, 'x00283000', signed);
  if (lut) return { kind: 'lut', lut };
  const slope = ds.floatString('x00281053');
  const intercept = ds.floatString('x00281052');
  return {
    kind: 'rescale',
    slope: slope !== undefined && Number.isFinite(slope) && slope !== 0 ? slope : 1,
    intercept: intercept !== undefined && Number.isFinite(intercept) ? intercept : 0,
  };
}

export function applyModality(t: ModalityTransform, stored: number): number {
  return t.kind === 'rescale' ? stored * t.slope + t.intercept : lookUp(t.lut, stored);
}

/**
 * The file's VOI: a VOI LUT Sequence wins over window tags (as pydicom's apply_voi_lut does);
 * with several windows the first is used, as PS3.3 C.11.2.1.2 makes it the default.
 */
export function readVoiTransform(ds: DataSet, modality: ModalityTransform): VoiTransform | null {
  // VOI LUT input is the modality output, signed when the modality output can be negative.
  const signedInput = modality.kind === 'rescale' && modality.intercept < 0;
  const lut = readSequenceLut(ds, 'x00283010', signedInput);
  if (lut) return { kind: 'lut', lut };
  const center = ds.floatString('x00281050', 0);
  const width = ds.floatString('x00281051', 0);
  if (center === undefined || width === undefined || !Number.isFinite(center) || !Number.isFinite(width) || width < 1) {
    return null;
  }
  const fnTag = ds.string('x00281056')?.trim().toUpperCase();
  const fn = fnTag === 'SIGMOID' || fnTag === 'LINEAR_EXACT' ? fnTag : 'LINEAR';
  return { kind: 'window', center, width, fn };
}

/** PS3.3 C.11.2.1.2.1-2 with output range 0..1. */
export function applyVoi(t: VoiTransform, x: number): number {
  if (t.kind === 'lut') return lookUp(t.lut, x) / ((1 << t.lut.bits) - 1);
  const { center: c, width: w } = t;
  if (t.fn === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - c)) / w));
  if (t.fn === 'LINEAR_EXACT') {
    if (x <= c - w / 2) return 0;
    if (x > c + w / 2) return 1;
    return (x - c) / w + 0.5;
  }
  if (w === 1) return x < c - 0.5 ? 0 : 1;
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 1;
  return (x - (c - 0.5)) / (w - 1) + 0.5;
}
