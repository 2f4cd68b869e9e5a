/**
 * The registration-error check: does what the DICOM header says was imaged (BodyPartExamined,
 * StudyDescription) agree with the body part the model sees? Pure functions, no DOM.
 *
 * Each recognised term maps to the labels it is compatible with. Neighbouring regions that
 * routinely share a field of view (a wrist film shows the hand, a hip film the pelvis) count
 * as agreement, so only real disagreements (a HAND study that holds a chest film) are flagged.
 */
import type { DicomFactsDto } from './api';
import type { BodyPartLabel } from './labels';

type Labels = readonly BodyPartLabel[];

const SPINE: Labels = ['Cervical Spine', 'Thoracic Spine', 'Lumbar Spine'];

/** DICOM BodyPartExamined defined terms (PS3.16 Annex L) and common variants. */
const TERMS: Record<string, Labels> = {
  ABDOMEN: ['Abdomen'],
  ABDOMENPELVIS: ['Abdomen', 'Pelvis'],
  ANKLE: ['Ankle', 'Feet', 'Lower Leg'],
  ARM: ['Shoulder', 'Elbow', 'Forearm', 'Others'],
  HUMERUS: ['Shoulder', 'Elbow', 'Others'],
  CSPINE: ['Cervical Spine'],
  NECK: ['Cervical Spine'],
  CHEST: ['Chest'],
  THORAX: ['Chest'],
  RIB: ['Chest'],
  STERNUM: ['Chest'],
  CHESTABDOMEN: ['Chest', 'Abdomen'],
  CLAVICLE: ['Clavicles', 'Shoulder', 'Chest'],
  ELBOW: ['Elbow', 'Forearm'],
  FOOT: ['Feet', 'Ankle'],
  TOE: ['Feet'],
  HEEL: ['Feet', 'Ankle'],
  CALCANEUS: ['Feet', 'Ankle'],
  FINGER: ['Finger', 'Hand'],
  THUMB: ['Finger', 'Hand'],
  FOREARM: ['Forearm', 'Wrist', 'Elbow'],
  HAND: ['Hand', 'Finger', 'Wrist'],
  HIP: ['Hip', 'Pelvis'],
  KNEE: ['Knee'],
  PATELLA: ['Knee'],
  LEG: ['Lower Leg', 'Knee', 'Ankle'],
  TIBIA: ['Lower Leg', 'Knee', 'Ankle'],
  FIBULA: ['Lower Leg', 'Knee', 'Ankle'],
  LSPINE: ['Lumbar Spine'],
  TLSPINE: ['Thoracic Spine', 'Lumbar Spine'],
  SSPINE: ['Lumbar Spine', 'Pelvis'],
  SACRUM: ['Lumbar Spine', 'Pelvis'],
  COCCYX: ['Lumbar Spine', 'Pelvis'],
  PELVIS: ['Pelvis', 'Hip'],
  SHOULDER: ['Shoulder', 'Clavicles'],
  SCAPULA: ['Shoulder'],
  SINUS: ['Sinus', 'Skull'],
  SKULL: ['Skull', 'Sinus'],
  HEAD: ['Skull', 'Sinus'],
  FACE: ['Skull', 'Sinus'],
  JAW: ['Skull', 'Sinus'],
  MANDIBLE: ['Skull', 'Sinus'],
  ORBIT: ['Skull', 'Sinus'],
  NOSE: ['Skull', 'Sinus'],
  TMJ: ['Skull'],
  THIGH: ['Thigh', 'Hip', 'Knee'],
  FEMUR: ['Thigh', 'Hip', 'Knee'],
  TSPINE: ['Thoracic Spine'],
  SPINE: SPINE,
  WHOLESPINE: SPINE,
  WRIST: ['Wrist', 'Hand', 'Forearm'],
};

/**
 * Words and phrases met in free text (study descriptions, non-standard BodyPartExamined values),
 * normalised to upper-case words separated by single spaces, mapped to a TERMS key.
 * Longer phrases are matched first and consumed, so "LUMBAR SPINE" never also counts as "SPINE".
 */
const PHRASES: Record<string, keyof typeof TERMS> = {
  'CERVICAL SPINE': 'CSPINE',
  'C SPINE': 'CSPINE',
  CERVICAL: 'CSPINE',
  'THORACIC SPINE': 'TSPINE',
  'DORSAL SPINE': 'TSPINE',
  'T SPINE': 'TSPINE',
  'LUMBAR SPINE': 'LSPINE',
  'L SPINE': 'LSPINE',
  LUMBAR: 'LSPINE',
  LUMBOSACRAL: 'LSPINE',
  'WHOLE SPINE': 'WHOLESPINE',
  'LOWER LEG': 'LEG',
  'TIB FIB': 'TIBIA',
  'PARANASAL SINUS': 'SINUS',
  'PARANASAL SINUSES': 'SINUS',
  SINUSES: 'SINUS',
  'UPPER ARM': 'HUMERUS',
  CXR: 'CHEST',
  TORAX: 'CHEST',
  RIBS: 'RIB',
  CLAVICLES: 'CLAVICLE',
  FEET: 'FOOT',
  TOES: 'TOE',
  FINGERS: 'FINGER',
  HANDS: 'HAND',
  HIPS: 'HIP',
  KNEES: 'KNEE',
  ANKLES: 'ANKLE',
  WRISTS: 'WRIST',
  ELBOWS: 'ELBOW',
  SHOULDERS: 'SHOULDER',
  LEGS: 'LEG',
  CRANIUM: 'SKULL',
  CRANIO: 'SKULL',
  FACIAL: 'FACE',
  ABDOMINAL: 'ABDOMEN',
  KUB: 'ABDOMEN',
  PELVIC: 'PELVIS',
};

function normalise(text: string): string {
  return ` ${text
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim()} `;
}

const PHRASES_LONGEST_FIRST: [phrase: string, term: string][] = [
  ...Object.entries(PHRASES),
  ...Object.keys(TERMS).map((term): [string, string] => [term, term]),
].sort((a, b) => b[0].length - a[0].length);

/**
 * The labels a DICOM body-part term or a free-text description is compatible with,
 * or null when it names no body part we know (nothing to check against).
 */
export function compatibleLabels(text: string | null | undefined): BodyPartLabel[] | null {
  if (!text) return null;
  const exact = TERMS[text.toUpperCase().replace(/[^A-Z]/g, '')];
  if (exact) return [...exact];
  let rest = normalise(text);
  const found = new Set<BodyPartLabel>();
  for (const [phrase, term] of PHRASES_LONGEST_FIRST) {
    const needle = ` ${phrase} `;
    if (!rest.includes(needle)) continue;
    rest = rest.split(needle).join(' ');
    for (const label of TERMS[term]) found.add(label);
  }
  return found.size > 0 ? [...found] : null;
}

export type RegistrationSource = 'bodyPartExamined' | 'studyDescription';

export interface RegistrationFinding {
  source: RegistrationSource;
  /** The header value as written. */
  value: string;
  expected: BodyPartLabel[];
  agrees: boolean;
}

export interface RegistrationCheck {
  /** `mismatch` when any recognised header value disagrees; `unchecked` when none is recognised. */
  status: 'consistent' | 'mismatch' | 'unchecked';
  findings: RegistrationFinding[];
}

const SOURCE_NAMES: Record<RegistrationSource, string> = {
  bodyPartExamined: 'Body Part Examined',
  studyDescription: 'Study Description',
};

export function checkRegistration(
  dicom: DicomFactsDto | null | undefined,
  predictedLabel: string | null | undefined,
): RegistrationCheck {
  const findings: RegistrationFinding[] = [];
  if (dicom && predictedLabel) {
    for (const source of ['bodyPartExamined', 'studyDescription'] as const) {
      const value = dicom[source]?.trim();
      const expected = compatibleLabels(value);
      if (!value || !expected) continue;
      findings.push({ source, value, expected, agrees: expected.includes(predictedLabel as BodyPartLabel) });
    }
  }
  if (findings.length === 0) return { status: 'unchecked', findings };
  return { status: findings.every((f) => f.agrees) ? 'consistent' : 'mismatch', findings };
}

/** One sentence per disagreement, for banners, tooltips and screen readers. */
export function describeMismatch(check: RegistrationCheck, predictedLabel: string): string[] {
  return check.findings
    .filter((f) => !f.agrees)
    .map(
      (f) =>
        `DICOM ${SOURCE_NAMES[f.source]} says "${f.value}" (${f.expected.join(', ')}) but the image looks like ${predictedLabel}.`,
    );
}
