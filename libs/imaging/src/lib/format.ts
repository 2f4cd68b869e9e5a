import { XrayError } from '@xray/shared';
import type { ImageFormat } from './types';
import { looksLikeHeaderlessDataset } from './dicom/headerless';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, signature: number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

const DICM = [0x44, 0x49, 0x43, 0x4d];

/** DICOM Part 10 with the 128-byte preamble, "DICM" with no preamble, or a bare data set. */
export function hasDicmPrefix(bytes: Uint8Array): 'preamble' | 'no-preamble' | null {
  if (startsWith(bytes, DICM, 128)) return 'preamble';
  if (startsWith(bytes, DICM, 0)) return 'no-preamble';
  return null;
}

/** Detects the format from the content only (never from a file name). */
export function detectFormat(bytes: Uint8Array): ImageFormat {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (hasDicmPrefix(bytes) || looksLikeHeaderlessDataset(bytes) !== null) return 'dicom';
  throw new XrayError('UNSUPPORTED_FORMAT', 'The content is not DICOM, PNG or JPEG.');
}
