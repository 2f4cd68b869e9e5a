import { data } from 'dcmjs';
import type { SourceInstanceAttributes, SourceStudyAttributes } from './types';
import { toArrayBuffer } from './part10';
import { deterministicUid } from './uids';

/** Secondary Capture Image Storage: the SOP class our references give a non-DICOM source. */
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

const STUDY_KEYWORDS = [
  'SpecificCharacterSet',
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
  'StudyDescription',
] as const;

/**
 * The Patient/Study module values and the instance attributes our results need, read from a
 * stored original DICOM file with dcmjs (pixel data skipped).
 * TODO(issue 14): unify with libs/dicom/src/header.ts once the ingest branch is merged.
 */
export function readSourceAttributes(bytes: Buffer): {
  study: SourceStudyAttributes;
  instance: SourceInstanceAttributes;
} {
  const file = data.DicomMessage.readFile(toArrayBuffer(bytes), { untilTag: '7FE00010', includeUntilTagValue: false });
  const header = data.DicomMetaDictionary.naturalizeDataset(file.dict) as Record<string, any>;
  const study: Record<string, unknown> = {};
  for (const keyword of STUDY_KEYWORDS) if (header[keyword] !== undefined) study[keyword] = header[keyword];
  for (const required of ['StudyInstanceUID', 'SOPClassUID', 'SOPInstanceUID', 'SeriesInstanceUID', 'Rows', 'Columns'])
    if (header[required] === undefined || header[required] === '')
      throw new Error(`the DICOM header has no ${required}`);
  return {
    study: study as unknown as SourceStudyAttributes,
    instance: {
      SOPClassUID: header.SOPClassUID,
      SOPInstanceUID: header.SOPInstanceUID,
      SeriesInstanceUID: header.SeriesInstanceUID,
      Rows: Number(header.Rows),
      Columns: Number(header.Columns),
      ...(header.Modality ? { Modality: header.Modality } : {}),
      ...(header.BodyPartExamined ? { BodyPartExamined: header.BodyPartExamined } : {}),
      ...(header.InstanceNumber !== undefined ? { InstanceNumber: Number(header.InstanceNumber) } : {}),
    },
  };
}

/**
 * UIDs for a study that did not arrive as DICOM (PNG/JPEG upload): derived from our study and
 * instance ids, so the objects of such a study have a stable study to live in and stable
 * references. Nothing else in the archive carries these UIDs.
 */
export const derivedSourceUids = {
  study: (studyId: string) => deterministicUid('source-study', studyId),
  series: (studyId: string) => deterministicUid('source-series', studyId),
  instance: (instanceId: string) => deterministicUid('source-instance', instanceId),
};

/** The study module of a non-DICOM study: its derived UID and accession number; the type 2 patient attributes stay empty. */
export function derivedStudyAttributes(studyId: string, accessionNumber: string | null): SourceStudyAttributes {
  return {
    StudyInstanceUID: derivedSourceUids.study(studyId),
    ...(accessionNumber ? { AccessionNumber: accessionNumber } : {}),
  };
}

/** The instance attributes of a PNG/JPEG source, with its pixel size. */
export function derivedInstanceAttributes(
  studyId: string,
  instanceId: string,
  size: { rows: number; columns: number },
): SourceInstanceAttributes {
  return {
    SOPClassUID: SECONDARY_CAPTURE,
    SOPInstanceUID: derivedSourceUids.instance(instanceId),
    SeriesInstanceUID: derivedSourceUids.series(studyId),
    Rows: size.rows,
    Columns: size.columns,
  };
}
