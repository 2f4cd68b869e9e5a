import type { LabelledImage } from './dataset';
import { seededRandom, shuffleInPlace } from './random';

export interface Split {
  train: LabelledImage[];
  validation: LabelledImage[];
}

/**
 * Train/validation split grouped by patient (a patient's images are all on one side) and
 * stratified by each patient's rarest class, so rare classes still reach validation.
 * Within a stratum, `fraction` of the patients (rounded, at least one when the stratum has
 * two or more patients) go to validation, chosen by a seeded shuffle.
 */
export function groupedSplit(images: LabelledImage[], fraction: number, seed: number): Split {
  const classCounts = new Map<number, number>();
  for (const image of images)
    for (const label of image.labels) classCounts.set(label, (classCounts.get(label) ?? 0) + 1);
  const byPatient = new Map<string, LabelledImage[]>();
  for (const image of images) byPatient.set(image.patientId, [...(byPatient.get(image.patientId) ?? []), image]);

  const strata = new Map<number, string[]>();
  for (const [patient, patientImages] of byPatient) {
    const labels = patientImages.flatMap((image) => image.labels);
    const rarest = labels.reduce((a, b) => ((classCounts.get(b) ?? 0) < (classCounts.get(a) ?? 0) ? b : a));
    strata.set(rarest, [...(strata.get(rarest) ?? []), patient]);
  }

  const random = seededRandom(seed);
  const validationPatients = new Set<string>();
  for (const [, members] of [...strata.entries()].sort((a, b) => a[0] - b[0])) {
    const patients = shuffleInPlace([...members].sort(), random);
    const take = patients.length < 2 ? 0 : Math.max(1, Math.round(patients.length * fraction));
    for (const patient of patients.slice(0, take)) validationPatients.add(patient);
  }
  return {
    train: images.filter((image) => !validationPatients.has(image.patientId)),
    validation: images.filter((image) => validationPatients.has(image.patientId)),
  };
}
