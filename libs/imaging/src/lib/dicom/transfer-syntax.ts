/** Transfer syntaxes this library decodes, and how their pixel data is encoded. */
export type PixelEncoding = 'native' | 'rle' | 'jpeg' | 'jpeg-ls' | 'jpeg2000' | 'htj2k';

export interface TransferSyntax {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  bigEndian: boolean;
  deflated: boolean;
}

const TABLE: Array<[string, string, PixelEncoding, { bigEndian?: boolean; deflated?: boolean }?]> = [
  ['1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'],
  ['1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }],
  ['1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native', { bigEndian: true }],
  ['1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless (Process 14)', 'jpeg'],
  ['1.2.840.10008.1.2.4.70', 'JPEG Lossless (Process 14, SV1)', 'jpeg'],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless', 'jpeg-ls'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.201', 'HTJ2K Lossless', 'htj2k'],
  ['1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL', 'htj2k'],
  ['1.2.840.10008.1.2.4.203', 'HTJ2K', 'htj2k'],
];

const BY_UID = new Map<string, TransferSyntax>(
  TABLE.map(([uid, name, encoding, flags]) => [
    uid,
    { uid, name, encoding, bigEndian: flags?.bigEndian ?? false, deflated: flags?.deflated ?? false },
  ]),
);

export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

export const SUPPORTED_TRANSFER_SYNTAXES: readonly TransferSyntax[] = [...BY_UID.values()];
