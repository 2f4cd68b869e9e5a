import { data } from 'dcmjs';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../part10';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** A Buffer's bytes as a standalone ArrayBuffer (what dcmjs reads and writes). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/** Writes a naturalized dataset as a DICOM Part 10 file (Explicit VR Little Endian) with dcmjs. */
export function writePart10(dataset: Record<string, unknown>): Buffer {
  const sopClassUid = dataset['SOPClassUID'];
  const sopInstanceUid = dataset['SOPInstanceUID'];
  if (typeof sopClassUid !== 'string' || typeof sopInstanceUid !== 'string') {
    throw new Error('writePart10: SOPClassUID and SOPInstanceUID are required');
  }
  const meta = data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });
  const file = new data.DicomDict(meta);
  file.dict = data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(file.write());
}
