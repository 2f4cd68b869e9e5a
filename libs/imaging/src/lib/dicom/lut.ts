import type { DataSet } from 'dicom-parser';
import { corrupt } from '../errors';

/** A LUT from a Modality/VOI LUT Sequence item or a palette (PS3.3 C.11.1, C.11.2, C.7.6.3). */
export interface Lut {
  /** Input value mapped to the first entry. */
  firstMapped: number;
  /** Output entries. */
  data: Uint16Array;
  /** Bits per output entry (8 to 16). */
  bits: number;
}

/** Reads a LUT: `descriptorTag` holds [entries (0 = 65536), first mapped value, bits], `dataTag` the entries. */
export function readLut(ds: DataSet, descriptorTag: string, dataTag: string, signedInput: boolean): Lut | null {
  const dataElement = ds.elements[dataTag];
  if (!ds.elements[descriptorTag] || !dataElement) return null;
  const rawEntries = ds.uint16(descriptorTag, 0) ?? 0;
  const entries = rawEntries === 0 ? 65536 : rawEntries;
  let firstMapped = ds.uint16(descriptorTag, 1) ?? 0;
  if (signedInput && firstMapped > 0x7fff) firstMapped -= 0x10000;
  const bits = ds.uint16(descriptorTag, 2) ?? 16;
  if (bits < 1 || bits > 16) throw corrupt(`LUT Descriptor gives ${bits} bits per entry`);
  const end = dataElement.dataOffset + dataElement.length;
  if (end > ds.byteArray.length) throw corrupt('LUT Data runs past the end of the file');
  // Entries are 16-bit words; some writers pack 8-bit entries one per byte.
  const packedBytes = dataElement.length === entries && bits <= 8;
  if (!packedBytes && dataElement.length < entries * 2) {
    throw corrupt(`LUT Data has ${dataElement.length} bytes for ${entries} entries`);
  }
  const data = new Uint16Array(entries);
  for (let i = 0; i < entries; i++) {
    data[i] = packedBytes
      ? ds.byteArray[dataElement.dataOffset + i]
      : ds.byteArrayParser.readUint16(ds.byteArray, dataElement.dataOffset + i * 2);
  }
  return { firstMapped, data, bits };
}

/** The LUT of the first item of a sequence such as Modality LUT Sequence (0028,3000). */
export function readSequenceLut(ds: DataSet, sequenceTag: string, signedInput: boolean): Lut | null {
  const item = ds.elements[sequenceTag]?.items?.[0]?.dataSet;
  return item ? readLut(item, 'x00283002', 'x00283006', signedInput) : null;
}

export function lookUp(lut: Lut, value: number): number {
  const index = Math.round(value) - lut.firstMapped;
  return lut.data[index < 0 ? 0 : index >= lut.data.length ? lut.data.length - 1 : index];
}
