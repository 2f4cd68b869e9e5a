import * as dicomParser from 'dicom-parser';

/** What intake needs from a DICOM header: the UIDs that place an instance, and study attributes. */
export interface DicomHeader {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string;
  accessionNumber: string | null;
  patientId: string | null;
  studyDate: string | null;
  studyDescription: string | null;
  modality: string | null;
}

export class DicomHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomHeaderError';
  }
}

/**
 * Reads the header of a Part 10 file (preamble, meta group, data set up to Pixel Data). Throws
 * DicomHeaderError with a sender-readable reason when the bytes do not parse or a UID that
 * places the instance is missing.
 */
export function readDicomHeader(part10: Uint8Array): DicomHeader {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(part10, { untilTag: 'x7fe00010' });
  } catch (error) {
    const reason = typeof error === 'string' ? error : ((error as Error)?.message ?? String(error));
    throw new DicomHeaderError(`the data set cannot be parsed: ${reason}`);
  }
  const text = (tag: string) => ds.string(tag)?.trim() || null;
  const required = (tag: string, name: string) => {
    const value = text(tag);
    if (!value) throw new DicomHeaderError(`${name} ${tag} is missing`);
    return value;
  };
  return {
    sopClassUid: text('x00080016') ?? required('x00020002', 'SOPClassUID'),
    sopInstanceUid: text('x00080018') ?? required('x00020003', 'SOPInstanceUID'),
    studyInstanceUid: required('x0020000d', 'StudyInstanceUID'),
    seriesInstanceUid: text('x0020000e'),
    transferSyntaxUid: required('x00020010', 'TransferSyntaxUID'),
    accessionNumber: text('x00080050'),
    patientId: text('x00100020'),
    studyDate: text('x00080020'),
    studyDescription: text('x00081030'),
    modality: text('x00080060'),
  };
}
