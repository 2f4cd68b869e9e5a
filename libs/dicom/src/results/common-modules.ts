import type { ModelRefDto } from '@xray/shared';
import type { ProducerIdentity, SourceStudyAttributes } from './types';

type Dataset = Record<string, unknown>;

/** Patient module keywords copied from the source (type 2 ones are written empty when absent). */
const PATIENT_KEYWORDS = ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex'] as const;
const STUDY_KEYWORDS = [
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
  'StudyDescription',
] as const;
const TYPE_2 = new Set<string>([
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
]);

/** The source study's Patient and General Study modules, so our objects file into the same study. */
export function patientAndStudyModules(study: SourceStudyAttributes): Dataset {
  if (!study.StudyInstanceUID) throw new Error('source study has no StudyInstanceUID');
  const out: Dataset = {};
  for (const keyword of [...PATIENT_KEYWORDS, ...STUDY_KEYWORDS]) {
    const value = study[keyword];
    if (value !== undefined && value !== null) out[keyword] = value;
    else if (TYPE_2.has(keyword)) out[keyword] = '';
  }
  return out;
}

function isAscii(dataset: unknown): boolean {
  if (typeof dataset === 'string') return /^\p{ASCII}*$/u.test(dataset);
  if (Array.isArray(dataset)) return dataset.every(isAscii);
  if (dataset && typeof dataset === 'object' && !(dataset instanceof ArrayBuffer) && !ArrayBuffer.isView(dataset)) {
    return Object.values(dataset).every(isAscii);
  }
  return true;
}

/**
 * The Specific Character Set of a built object. dcmjs encodes every string as UTF-8, so the
 * source's character set is kept as long as all our text is ASCII (valid in every DICOM
 * character set); otherwise the same characters are declared as UTF-8 (ISO_IR 192).
 */
export function characterSetFor(
  source: SourceStudyAttributes['SpecificCharacterSet'],
  dataset: Dataset,
): string | string[] | undefined {
  if (isAscii(dataset)) return source || undefined;
  return 'ISO_IR 192';
}

/** Sets SpecificCharacterSet (see characterSetFor) on a finished dataset. */
export function withCharacterSet(source: SourceStudyAttributes['SpecificCharacterSet'], dataset: Dataset): Dataset {
  const charset = characterSetFor(source, dataset);
  return charset ? { SpecificCharacterSet: charset, ...dataset } : dataset;
}

/** DICOM DA and TM of an instant, in UTC (TimezoneOffsetFromUTC says so). */
export function dicomDateTime(at: Date): { date: string; time: string } {
  const iso = at.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: iso.slice(11, 19).replace(/:/g, '') };
}

/** IHE AI Results: the purpose code of the equipment that ran the algorithm (IHE placeholder code). */
const PROCESSING_ALGORITHM = {
  CodeValue: 'Newcode1',
  CodingSchemeDesignator: '99IHE',
  CodeMeaning: 'Processing Algorithm',
};

/** General Equipment, SOP Common timing and ContributingEquipmentSequence naming our software and model. */
export function equipmentModules(producer: ProducerIdentity, model: ModelRefDto, at: Date): Dataset {
  const { date, time } = dicomDateTime(at);
  return {
    Manufacturer: producer.manufacturer,
    ManufacturerModelName: producer.modelName,
    SoftwareVersions: producer.softwareVersion,
    ...(producer.institutionName ? { InstitutionName: producer.institutionName } : {}),
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    TimezoneOffsetFromUTC: '+0000',
    ContributingEquipmentSequence: [
      {
        PurposeOfReferenceCodeSequence: [PROCESSING_ALGORITHM],
        Manufacturer: producer.manufacturer,
        ManufacturerModelName: `${producer.modelName} (${model.name})`.slice(0, 64),
        SoftwareVersions: [producer.softwareVersion, model.version].map((v) => v.slice(0, 64)),
        ContributionDateTime: `${date}${time}`,
        ContributionDescription: `Body-part classification and Grad-CAM++ by ${model.name} ${model.version}`,
      },
    ],
  };
}
