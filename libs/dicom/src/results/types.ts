import type { ModelRefDto, PredictionDto } from '@xray/shared';

/** A Person Name as dcmjs reads it ([{ Alphabetic }]) or as a plain "Family^Given" string. */
export type PersonName = string | { Alphabetic?: string; Ideographic?: string; Phonetic?: string }[];

/**
 * Patient and General Study module values of the source study, keyed by DICOM keyword as the
 * ingest reads them from the stored original instance (dcmjs naturalized form). Copied as they are.
 */
export interface SourceStudyAttributes {
  /** Kept when the text of our objects fits it; see `characterSetFor`. */
  SpecificCharacterSet?: string | string[];
  PatientName?: PersonName;
  PatientID?: string;
  IssuerOfPatientID?: string;
  PatientBirthDate?: string;
  PatientSex?: string;
  StudyInstanceUID: string;
  StudyDate?: string;
  StudyTime?: string;
  ReferringPhysicianName?: PersonName;
  StudyID?: string;
  AccessionNumber?: string;
  StudyDescription?: string;
}

/** What the results refer to in one source instance. */
export interface SourceInstanceAttributes {
  SOPClassUID: string;
  SOPInstanceUID: string;
  SeriesInstanceUID: string;
  Rows: number;
  Columns: number;
  Modality?: string;
  BodyPartExamined?: string;
  InstanceNumber?: number;
}

/** The registration check of the header's BodyPartExamined against the prediction. */
export interface RegistrationCheck {
  status: 'agrees' | 'disagrees' | 'unknown';
  /** Human-readable reason, shown in the warning item when the check disagrees. */
  message?: string;
}

/** Our result for one instance. */
export interface InstanceResult {
  /**
   * Stable id of this result, the seed of the per-instance UIDs (with the model's sha256). Pass the
   * source SOPInstanceUID for DICOM sources so a re-sent study maps to the same objects; our
   * instance id otherwise.
   */
  resultId: string;
  source: SourceInstanceAttributes;
  /** The classification as the API shows it, its out-of-distribution warning and score included. */
  prediction: PredictionDto;
  registration: RegistrationCheck;
  /** Other warnings (e.g. decoder notes), one text item each. */
  warnings: string[];
}

/** Who made the objects: written into the observer context and ContributingEquipmentSequence. */
export interface ProducerIdentity {
  manufacturer: string;
  /** Product name, e.g. "xray-bodypart". */
  modelName: string;
  softwareVersion: string;
  institutionName?: string;
}

export interface StudyReportInput {
  study: SourceStudyAttributes;
  instances: InstanceResult[];
  model: ModelRefDto;
  producer: ProducerIdentity;
  /** When the results were complete: the SR's Content Date/Time (fixed so a retry is identical). */
  completedAt: Date;
}

export interface SecondaryCaptureInput {
  study: SourceStudyAttributes;
  instance: InstanceResult;
  model: ModelRefDto;
  producer: ProducerIdentity;
  /** Grad-CAM++ target layer, named in DerivationDescription. */
  layer: string;
  /** The overlay image (PNG/JPEG; any size: it is resized to the source's Rows x Columns). */
  overlay: Buffer;
  completedAt: Date;
}

/** A built object: its identity and its DICOM Part 10 bytes. */
export interface DicomObject {
  kind: 'sr' | 'sc';
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  bytes: Buffer;
}
