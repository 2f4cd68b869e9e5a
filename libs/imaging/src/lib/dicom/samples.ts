/** Samples of one frame as a typed array of the allocated width (8, 16 or 32 bits). */
export type Samples = Uint8Array | Uint16Array | Uint32Array;

/**
 * Views the frame bytes as samples. Little-endian, aligned data is viewed in place (no copy);
 * big-endian data is byte-swapped into a new array, unaligned data copied once.
 * 1-bit data (segmentations, overlays in pixel data) is unpacked to one byte per sample.
 */
export function toSamples(bytes: Uint8Array, bitsAllocated: number, sampleCount: number, bigEndian: boolean): Samples {
  if (bitsAllocated === 1) return unpackBits(bytes, sampleCount);
  if (bitsAllocated === 8) return bytes.subarray(0, sampleCount);
  const width = bitsAllocated / 8;
  const length = sampleCount * width;
  const aligned = bytes.byteOffset % width === 0;
  let source = bytes.subarray(0, length);
  // `new Uint8Array(view)` copies (Buffer#slice would not).
  if (bigEndian) {
    source = new Uint8Array(source);
    if (width === 2) swap16(source);
    else swap32(source);
  } else if (!aligned) {
    source = new Uint8Array(source);
  }
  return width === 2
    ? new Uint16Array(source.buffer, source.byteOffset, sampleCount)
    : new Uint32Array(source.buffer, source.byteOffset, sampleCount);
}

function swap16(bytes: Uint8Array): void {
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const t = bytes[i];
    bytes[i] = bytes[i + 1];
    bytes[i + 1] = t;
  }
}

function swap32(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    let t = bytes[i];
    bytes[i] = bytes[i + 3];
    bytes[i + 3] = t;
    t = bytes[i + 1];
    bytes[i + 1] = bytes[i + 2];
    bytes[i + 2] = t;
  }
}

/** PS3.5 8.1.1: bit 0 of each byte is the first sample. */
function unpackBits(bytes: Uint8Array, sampleCount: number): Uint8Array {
  const out = new Uint8Array(sampleCount);
  for (let i = 0; i < sampleCount; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  return out;
}
