/**
 * DICOM Part 10 files from a C-STORE data set. DIMSE carries the data set without File Meta
 * Information, so the listener prefixes the meta group it writes here and keeps the data set
 * bytes exactly as received (in the negotiated transfer syntax, never transcoded).
 */

/** Our Implementation Class UID (a UUID-derived 2.25 UID) and version name, written in every meta group. */
export const IMPLEMENTATION_CLASS_UID = '2.25.58222228026041771115463870803924411688';
export const IMPLEMENTATION_VERSION_NAME = 'XRAY_DICOM_1';

export interface FileMetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The calling AE title, recorded as Source Application Entity Title. */
  sourceAeTitle?: string;
}

function element(group: number, el: number, vr: string, value: Buffer): Buffer {
  if (vr === 'OB') {
    const head = Buffer.alloc(12);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(el, 2);
    head.write('OB', 4, 'latin1');
    head.writeUInt32LE(value.length, 8);
    return Buffer.concat([head, value]);
  }
  const head = Buffer.alloc(8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'latin1');
  head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** A text value padded to even length: UIDs with NUL, other VRs with a space (PS3.5 6.2). */
function text(value: string, vr: 'UI' | 'SH' | 'AE'): Buffer {
  const padded = value.length % 2 === 0 ? value : value + (vr === 'UI' ? '\0' : ' ');
  return Buffer.from(padded, 'latin1');
}

/** The 128-byte preamble, "DICM" and the File Meta Information group (always Explicit VR Little Endian). */
export function fileMetaHeader(fields: FileMetaFields): Buffer {
  const body = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 0x0002, 'UI', text(fields.sopClassUid, 'UI')),
    element(0x0002, 0x0003, 'UI', text(fields.sopInstanceUid, 'UI')),
    element(0x0002, 0x0010, 'UI', text(fields.transferSyntaxUid, 'UI')),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, 'UI')),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME, 'SH')),
    ...(fields.sourceAeTitle ? [element(0x0002, 0x0016, 'AE', text(fields.sourceAeTitle, 'AE'))] : []),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0002, 0x0000, 'UL', length), body]);
}
