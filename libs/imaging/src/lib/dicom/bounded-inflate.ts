import { Inflate } from 'fflate';
import { corrupt } from '../errors';
import { MAX_DECODED_BYTES } from '../limits';

/** Room for the elements after the pixel data (padding, signatures). */
const TRAILER_MARGIN = 1024 * 1024;
/** Deflated bytes fed per step: the output grows by steps too, so a bomb is stopped early. */
const STEP = 4 * 1024;
/** Explicit VR with a 4-byte length (after 2 reserved bytes). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/**
 * Scans an explicit VR little endian data set (as inflated so far) up to the pixel data and
 * returns the most bytes the whole data set can need: what precedes the pixel data, the pixel
 * data the header declares (rows x columns x samples x bytes per sample x frames) and a
 * margin. Undefined until the pixel data is reached, or when the header cannot be walked
 * (undefined-length sequences): the fixed ceiling then applies.
 */
export class PixelDataBound {
  private position = 0;
  private readonly values = new Map<number, number>();
  done = false;
  bound: number | undefined;

  update(data: Uint8Array): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    while (!this.done && this.position + 8 <= data.length) {
      const tag = (view.getUint16(this.position, true) << 16) | view.getUint16(this.position + 2, true);
      const vr = String.fromCharCode(data[this.position + 4], data[this.position + 5]);
      const long = LONG_VRS.has(vr);
      if (long && this.position + 12 > data.length) return;
      const length = long ? view.getUint32(this.position + 8, true) : view.getUint16(this.position + 6, true);
      const valueAt = this.position + (long ? 12 : 8);
      if (tag >>> 0 === 0x7fe00010) return this.finish(valueAt);
      if (length === 0xffffffff) return void (this.done = true); // a sequence of undefined length: give up
      if (valueAt + length > data.length) return; // wait for more output
      if (tag >>> 16 === 0x0028) this.read(tag & 0xffff, vr, view, valueAt, length, data);
      this.position = valueAt + length;
    }
  }

  private read(element: number, vr: string, view: DataView, at: number, length: number, data: Uint8Array): void {
    if (vr === 'US' && length >= 2) this.values.set(element, view.getUint16(at, true));
    else if (vr === 'IS')
      this.values.set(element, Number(String.fromCharCode(...data.subarray(at, at + length)).trim()));
  }

  private finish(pixelValueAt: number): void {
    this.done = true;
    const rows = this.values.get(0x0010);
    const columns = this.values.get(0x0011);
    const bits = this.values.get(0x0100);
    if (!rows || !columns || !bits) return;
    const samples = this.values.get(0x0002) || 1;
    const frames = Math.max(1, this.values.get(0x0008) || 1);
    this.bound = pixelValueAt + rows * columns * samples * Math.ceil(bits / 8) * frames + TRAILER_MARGIN;
  }
}

/**
 * Inflates a deflated data set step by step, stopping with CORRUPT_FILE as soon as the output
 * passes what its own header can need (or the fixed ceiling): a deflate bomb costs at most
 * that much memory and time, never its inflated size.
 */
export function inflateBounded(deflated: Uint8Array, ceiling = MAX_DECODED_BYTES): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const header = new PixelDataBound();
  let headerBytes = new Uint8Array(0);
  const inflater = new Inflate((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
    if (!header.done) {
      const joined = new Uint8Array(headerBytes.length + chunk.length);
      joined.set(headerBytes);
      joined.set(chunk, headerBytes.length);
      headerBytes = joined;
      header.update(headerBytes);
      if (header.done) headerBytes = new Uint8Array(0);
    }
    const limit = Math.min(ceiling, header.bound ?? ceiling);
    if (total > limit)
      throw corrupt(`the deflated data set inflates beyond the ${limit} bytes its header can need (a deflate bomb?)`);
  });
  try {
    for (let at = 0; at < deflated.length; at += STEP)
      inflater.push(deflated.subarray(at, at + STEP), at + STEP >= deflated.length);
  } catch (error) {
    if ((error as { code?: string }).code === 'CORRUPT_FILE') throw error;
    throw corrupt('the deflated data set cannot be inflated', error);
  }
  const whole = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}
