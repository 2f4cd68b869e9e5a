/**
 * Builds small DICOM Part 10 byte streams in memory, so decoding is tested on a fresh clone
 * (no ../shared). Only what the tests need: defined-length elements and items, encapsulated
 * pixel data, explicit/implicit VR little endian and explicit VR big endian.
 */
export type Syntax = 'explicit-le' | 'implicit-le' | 'explicit-be';

export interface Element {
  tag: number; // 0xGGGGEEEE
  vr: string;
  value: string | number[] | Uint8Array | Uint16Array | Element[][] | { fragments: Uint8Array[] };
}

export const UID = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegLossless: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  j2k: '1.2.840.10008.1.2.4.90',
  j2kLossy: '1.2.840.10008.1.2.4.91',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  htj2k: '1.2.840.10008.1.2.4.201',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
};

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'SQ', 'UT', 'UN', 'UC', 'UR']);

class Writer {
  private chunks: number[] = [];
  constructor(private readonly bigEndian: boolean) {}
  u8(v: number) {
    this.chunks.push(v & 0xff);
  }
  u16(v: number) {
    if (this.bigEndian) this.chunks.push((v >> 8) & 0xff, v & 0xff);
    else this.chunks.push(v & 0xff, (v >> 8) & 0xff);
  }
  u32(v: number) {
    if (this.bigEndian) {
      this.u16((v >>> 16) & 0xffff);
      this.u16(v & 0xffff);
    } else {
      this.u16(v & 0xffff);
      this.u16((v >>> 16) & 0xffff);
    }
  }
  bytes(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]);
  }
  get length() {
    return this.chunks.length;
  }
  toBytes() {
    return Uint8Array.from(this.chunks);
  }
}

function valueBytes(el: Element, syntax: Syntax): Uint8Array {
  const be = syntax === 'explicit-be';
  const { vr, value } = el;
  if (typeof value === 'string') {
    const padded = value.length % 2 ? value + (vr === 'UI' ? '\0' : ' ') : value;
    return Uint8Array.from(padded, (c) => c.charCodeAt(0));
  }
  if (value instanceof Uint8Array) return value.length % 2 ? Uint8Array.from([...value, 0]) : value;
  if (value instanceof Uint16Array || (Array.isArray(value) && ['US', 'SS', 'OW'].includes(vr))) {
    const w = new Writer(be);
    for (const v of Array.from(value as ArrayLike<number>)) w.u16(v);
    return w.toBytes();
  }
  if (Array.isArray(value) && (vr === 'UL' || vr === 'SL')) {
    const w = new Writer(be);
    for (const v of value as number[]) w.u32(v);
    return w.toBytes();
  }
  throw new Error(`cannot encode ${vr}`);
}

function writeElement(w: Writer, el: Element, syntax: Syntax): void {
  const group = el.tag >>> 16;
  const element = el.tag & 0xffff;
  const explicit = syntax !== 'implicit-le' || group === 0x0002;
  w.u16(group);
  w.u16(element);
  const header = (length: number) => {
    if (explicit) {
      w.bytes([el.vr.charCodeAt(0), el.vr.charCodeAt(1)]);
      if (LONG_VRS.has(el.vr)) {
        w.u16(0);
        w.u32(length);
      } else w.u16(length);
    } else w.u32(length);
  };
  if (el.vr === 'SQ') {
    const items = (el.value as Element[][]).map((item) => {
      const inner = new Writer(syntax === 'explicit-be');
      for (const child of item) writeElement(inner, child, syntax);
      return inner.toBytes();
    });
    header(items.reduce((n, i) => n + 8 + i.length, 0));
    for (const item of items) {
      w.u16(0xfffe);
      w.u16(0xe000);
      w.u32(item.length);
      w.bytes(item);
    }
    return;
  }
  if (typeof el.value === 'object' && 'fragments' in el.value) {
    header(0xffffffff);
    const item = (bytes: Uint8Array) => {
      w.u16(0xfffe);
      w.u16(0xe000);
      w.u32(bytes.length);
      w.bytes(bytes);
    };
    item(new Uint8Array(0)); // empty Basic Offset Table
    for (const fragment of el.value.fragments) item(fragment.length % 2 ? Uint8Array.from([...fragment, 0]) : fragment);
    w.u16(0xfffe);
    w.u16(0xe0dd);
    w.u32(0);
    return;
  }
  const bytes = valueBytes(el, syntax);
  header(bytes.length);
  w.bytes(bytes);
}

export interface BuildOptions {
  syntax?: Syntax;
  /** Transfer syntax UID written in the meta header (defaults to the one matching `syntax`). */
  transferSyntaxUid?: string;
  /** false: a bare data set with no preamble and no meta header. */
  meta?: boolean;
  /** Replace the encoded data set (e.g. with its deflated form). */
  transformDataSet?: (dataSet: Uint8Array) => Uint8Array;
}

export function encodeDataSet(elements: Element[], syntax: Syntax): Uint8Array {
  const w = new Writer(syntax === 'explicit-be');
  for (const el of [...elements].sort((a, b) => a.tag - b.tag)) writeElement(w, el, syntax);
  return w.toBytes();
}

export function buildDicom(elements: Element[], options: BuildOptions = {}): Uint8Array {
  const syntax = options.syntax ?? 'explicit-le';
  let dataSet = encodeDataSet(elements, syntax);
  if (options.transformDataSet) dataSet = options.transformDataSet(dataSet);
  if (options.meta === false) return dataSet;
  const tsUid =
    options.transferSyntaxUid ??
    (syntax === 'implicit-le' ? UID.implicitLE : syntax === 'explicit-be' ? UID.explicitBE : UID.explicitLE);
  const metaBody = encodeDataSet(
    [
      { tag: 0x00020001, vr: 'OB', value: Uint8Array.from([0, 1]) },
      { tag: 0x00020002, vr: 'UI', value: UID.secondaryCapture },
      { tag: 0x00020003, vr: 'UI', value: '1.2.3.4.5.6.7' },
      { tag: 0x00020010, vr: 'UI', value: tsUid },
    ],
    'explicit-le',
  );
  const groupLength = encodeDataSet([{ tag: 0x00020000, vr: 'UL', value: [metaBody.length] }], 'explicit-le');
  const out = new Uint8Array(132 + groupLength.length + metaBody.length + dataSet.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(groupLength, 132);
  out.set(metaBody, 132 + groupLength.length);
  out.set(dataSet, 132 + groupLength.length + metaBody.length);
  return out;
}

/** Image Pixel module + identifiers for a greyscale or colour image. */
export function imageElements(opts: {
  rows: number;
  columns: number;
  pixelData: Element['value'];
  pixelVr?: string;
  bitsAllocated?: number;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  samplesPerPixel?: number;
  frames?: number;
  extra?: Element[];
}): Element[] {
  const bitsAllocated = opts.bitsAllocated ?? 16;
  const elements: Element[] = [
    { tag: 0x00080016, vr: 'UI', value: UID.secondaryCapture },
    { tag: 0x00080018, vr: 'UI', value: '1.2.3.4.5.6.7' },
    { tag: 0x00080060, vr: 'CS', value: 'CR' },
    { tag: 0x00100010, vr: 'PN', value: 'Doe^Jane' },
    { tag: 0x00100020, vr: 'LO', value: 'PATIENT-42' },
    { tag: 0x00180015, vr: 'CS', value: 'CHEST' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.3.4.1' },
    { tag: 0x0020000e, vr: 'UI', value: '1.2.3.4.2' },
    { tag: 0x00280002, vr: 'US', value: [opts.samplesPerPixel ?? 1] },
    { tag: 0x00280004, vr: 'CS', value: opts.photometric ?? 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [opts.rows] },
    { tag: 0x00280011, vr: 'US', value: [opts.columns] },
    { tag: 0x00280100, vr: 'US', value: [bitsAllocated] },
    { tag: 0x00280101, vr: 'US', value: [opts.bitsStored ?? bitsAllocated] },
    { tag: 0x00280102, vr: 'US', value: [(opts.bitsStored ?? bitsAllocated) - 1] },
    { tag: 0x00280103, vr: 'US', value: [opts.signed ? 1 : 0] },
    { tag: 0x7fe00010, vr: opts.pixelVr ?? (bitsAllocated > 8 ? 'OW' : 'OB'), value: opts.pixelData },
  ];
  if ((opts.samplesPerPixel ?? 1) === 3) elements.push({ tag: 0x00280006, vr: 'US', value: [0] });
  if (opts.frames) elements.push({ tag: 0x00280008, vr: 'IS', value: String(opts.frames) });
  for (const e of opts.extra ?? []) {
    const i = elements.findIndex((x) => x.tag === e.tag);
    if (i >= 0) elements[i] = e;
    else elements.push(e);
  }
  return elements;
}
