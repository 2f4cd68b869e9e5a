import type { PixelEncoding } from './transfer-syntax';

/** How far into a JPEG bitstream the frame header (SOF) is looked for. */
const JPEG_HEADER_SCAN_BYTES = 65_536;

const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const u32 = (b: Uint8Array, at: number): number =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/**
 * The frame size a compressed bitstream declares in its header, read without decoding, or null
 * when the header is not where expected (RLE has none). Checked against Rows/Columns before a
 * codec runs, so a forged header cannot make the codec allocate for a huge image.
 */
export function declaredFrameSize(
  encoding: PixelEncoding,
  bytes: Uint8Array,
): { width: number; height: number } | null {
  if (encoding === 'jpeg2000' || encoding === 'htj2k') {
    // J2K codestream: SOC (FF4F), SIZ (FF51), Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz.
    if (bytes.length < 24 || u16(bytes, 0) !== 0xff4f || u16(bytes, 2) !== 0xff51) return null;
    return { width: u32(bytes, 8) - u32(bytes, 16), height: u32(bytes, 12) - u32(bytes, 20) };
  }
  if (encoding === 'jpeg' || encoding === 'jpeg-ls') {
    if (bytes.length < 4 || u16(bytes, 0) !== 0xffd8) return null;
    const end = Math.min(bytes.length, JPEG_HEADER_SCAN_BYTES);
    let at = 2;
    while (at + 9 <= end) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      if (marker === 0xff) {
        at += 1; // fill byte
        continue;
      }
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC); SOF55 (F7) is JPEG-LS.
      const isSof =
        (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
      if (isSof) return { height: u16(bytes, at + 5), width: u16(bytes, at + 7) };
      at += 2 + u16(bytes, at + 2);
    }
  }
  return null;
}
