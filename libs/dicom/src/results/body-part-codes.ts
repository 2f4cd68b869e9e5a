import { BODY_PART_LABELS, type BodyPartLabel } from '@xray/shared';

/** A coded concept as dcmjs names its parts (CodeValue, CodingSchemeDesignator, CodeMeaning). */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export interface BodyPartCoding {
  /** SNOMED CT concept from CID 4031 "Common Anatomic Regions"; null for `Others`. */
  code: Code | null;
  /** The BodyPartExamined (0018,0015) defined term PS3.16 Annex L gives for that concept. */
  bodyPartExamined: string | null;
}

const sct = (value: string, meaning: string): Code => ({ value, scheme: 'SCT', meaning });

/**
 * Each UNIFESP label with its CID 4031 code and Annex L defined term (PS3.16 2022b, the codes
 * DCMTK's generated CID4031 class carries). Joint-level concepts where CID 4031 has only those
 * (ankle, elbow, wrist); `Sinus` is the paranasal sinuses; `Others` has no anatomic code.
 */
export const BODY_PART_CODING: Readonly<Record<BodyPartLabel, BodyPartCoding>> = {
  Abdomen: { code: sct('818981001', 'Abdomen'), bodyPartExamined: 'ABDOMEN' },
  Ankle: { code: sct('70258002', 'Ankle joint'), bodyPartExamined: 'ANKLE' },
  'Cervical Spine': { code: sct('122494005', 'Cervical spine'), bodyPartExamined: 'CSPINE' },
  Chest: { code: sct('816094009', 'Chest'), bodyPartExamined: 'CHEST' },
  Clavicles: { code: sct('51299004', 'Clavicle'), bodyPartExamined: 'CLAVICLE' },
  Elbow: { code: sct('16953009', 'Elbow joint'), bodyPartExamined: 'ELBOW' },
  Feet: { code: sct('56459004', 'Foot'), bodyPartExamined: 'FOOT' },
  Finger: { code: sct('7569003', 'Finger'), bodyPartExamined: 'FINGER' },
  Forearm: { code: sct('14975008', 'Forearm'), bodyPartExamined: 'FOREARM' },
  Hand: { code: sct('85562004', 'Hand'), bodyPartExamined: 'HAND' },
  Hip: { code: sct('29836001', 'Hip'), bodyPartExamined: 'HIP' },
  Knee: { code: sct('72696002', 'Knee'), bodyPartExamined: 'KNEE' },
  'Lower Leg': { code: sct('30021000', 'Lower leg'), bodyPartExamined: 'LEG' },
  'Lumbar Spine': { code: sct('122496007', 'Lumbar spine'), bodyPartExamined: 'LSPINE' },
  Others: { code: null, bodyPartExamined: null },
  Pelvis: { code: sct('816092008', 'Pelvis'), bodyPartExamined: 'PELVIS' },
  Shoulder: { code: sct('16982005', 'Shoulder'), bodyPartExamined: 'SHOULDER' },
  Sinus: { code: sct('2095001', 'Paranasal sinus'), bodyPartExamined: 'SINUS' },
  Skull: { code: sct('89546000', 'Skull'), bodyPartExamined: 'SKULL' },
  Thigh: { code: sct('68367000', 'Thigh'), bodyPartExamined: 'THIGH' },
  'Thoracic Spine': { code: sct('122495006', 'Thoracic spine'), bodyPartExamined: 'TSPINE' },
  Wrist: { code: sct('74670003', 'Wrist joint'), bodyPartExamined: 'WRIST' },
};

export function bodyPartCoding(label: string): BodyPartCoding {
  if (!(BODY_PART_LABELS as readonly string[]).includes(label)) throw new Error(`unknown body part label "${label}"`);
  return BODY_PART_CODING[label as BodyPartLabel];
}
