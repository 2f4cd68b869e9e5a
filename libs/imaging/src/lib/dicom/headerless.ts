/**
 * Data sets without a File Meta Information header (and meta headers without a transfer
 * syntax): the encoding is guessed from the first element, the way DICOM toolkits do.
 */
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';

const VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/** Groups a data set can start with: 0002 (a meta group written without "DICM") or 0008. */
const FIRST_GROUPS = new Set([0x0002, 0x0008]);

function hasVr(bytes: Uint8Array, at: number): boolean {
  return VRS.has(String.fromCharCode(bytes[at], bytes[at + 1]));
}

/**
 * The transfer syntax of the data set starting at `offset`, judged from its first element,
 * or null when the bytes do not look like a DICOM data set. `anyGroup` when the bytes are
 * known to be DICOM (after a meta header) and only the encoding is in question.
 */
export function guessSyntaxAt(bytes: Uint8Array, offset: number, anyGroup = false): string | null {
  if (bytes.length < offset + 8) return null;
  const b = (i: number): number => bytes[offset + i];
  const groupLe = b(0) | (b(1) << 8);
  const elementLe = b(2) | (b(3) << 8);
  const groupBe = (b(0) << 8) | b(1);
  const elementBe = (b(2) << 8) | b(3);
  if (anyGroup) return hasVr(bytes, offset + 4) ? EXPLICIT_LE : IMPLICIT_LE;
  if (FIRST_GROUPS.has(groupLe) && elementLe < 0x0100) {
    if (hasVr(bytes, offset + 4)) return EXPLICIT_LE;
    const length = (b(4) | (b(5) << 8) | (b(6) << 16) | (b(7) << 24)) >>> 0;
    if (length <= bytes.length - offset - 8) return IMPLICIT_LE;
  }
  if (FIRST_GROUPS.has(groupBe) && elementBe < 0x0100 && hasVr(bytes, offset + 4)) return EXPLICIT_BE;
  return null;
}

export function looksLikeHeaderlessDataset(bytes: Uint8Array): string | null {
  return guessSyntaxAt(bytes, 0);
}
