import { SUPPORTED_TRANSFER_SYNTAXES } from '@xray/imaging';

/** The Storage SOP classes a radiograph arrives in and libs/imaging renders (single-frame or first frame). */
export const IMAGE_STORAGE_SOP_CLASSES: Readonly<Record<string, string>> = {
  '1.2.840.10008.5.1.4.1.1.1': 'Computed Radiography Image Storage',
  '1.2.840.10008.5.1.4.1.1.1.1': 'Digital X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.1.1': 'Digital X-Ray Image Storage - For Processing',
  '1.2.840.10008.5.1.4.1.1.1.2': 'Digital Mammography X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.2.1': 'Digital Mammography X-Ray Image Storage - For Processing',
  '1.2.840.10008.5.1.4.1.1.1.3': 'Digital Intra-Oral X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.3.1': 'Digital Intra-Oral X-Ray Image Storage - For Processing',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.1': 'Multi-frame Single Bit Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.2': 'Multi-frame Grayscale Byte Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.3': 'Multi-frame Grayscale Word Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.4': 'Multi-frame True Color Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.12.1': 'X-Ray Angiographic Image Storage',
  '1.2.840.10008.5.1.4.1.1.12.2': 'X-Ray Radiofluoroscopic Image Storage',
};

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

/** Every transfer syntax libs/imaging decodes: instances are stored as received, so these are the ones we accept. */
export const ACCEPTED_TRANSFER_SYNTAXES: readonly string[] = SUPPORTED_TRANSFER_SYNTAXES.map((ts) => ts.uid);

export function isAcceptedImageSopClass(uid: string): boolean {
  return Object.prototype.hasOwnProperty.call(IMAGE_STORAGE_SOP_CLASSES, uid);
}

/** DIMSE status codes (PS3.4 B.2.3, PS3.7 C) and their use in PS3.18 FailureReason. */
export const DicomStatus = {
  Success: 0x0000,
  /** Refused: SOP Class not supported. */
  SopClassNotSupported: 0x0122,
  /** Refused: out of resources (storage or database failure on our side). */
  OutOfResources: 0xa700,
  /** Error: data set does not match SOP class. */
  DataSetDoesNotMatchSopClass: 0xa900,
  /** Error: cannot understand (the data set does not parse). */
  CannotUnderstand: 0xc000,
  /** Refused by STOW-RS: the instance is not in the study of the request URL (PS3.18 table 10.5.3-2 uses 0xA900 family; 0xC000 range for processing failure). */
  ProcessingFailure: 0x0110,
} as const;
