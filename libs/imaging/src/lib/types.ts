/** Public types of @xray/imaging. */
import type { DicomFactsDto } from '@xray/shared';

export type ImageFormat = 'dicom' | 'png' | 'jpeg';

/**
 * Facts kept for storage and display. Deliberately has no patient name/id fields:
 * nothing that identifies a patient leaves this library.
 */
export interface ImageMetadata extends DicomFactsDto {
  bitsStored?: number;
  numberOfFrames?: number;
}

/**
 * Where the grey levels came from:
 * - `voi-lut-sequence` / `window-tags`: the file's own VOI LUT (PS3.3 C.11.2),
 * - `percentile`: no VOI in the file, so the robust percentile window of the pixel values,
 * - `none`: no windowing (8-bit greyscale or colour content shown as stored).
 */
export type WindowSource = 'voi-lut-sequence' | 'window-tags' | 'percentile' | 'none';

export interface WindowUsed {
  center: number;
  width: number;
  source: WindowSource;
}

export interface DecodedImage {
  format: ImageFormat;
  width: number;
  height: number;
  /** 8-bit greyscale rendering, row-major, bone bright (see docs/imaging.md). */
  pixels: Uint8Array;
  /** The VOI applied to DICOM pixels; null for PNG/JPEG. */
  window: WindowUsed | null;
  metadata: ImageMetadata;
  decodeMs: number;
}
