/** Example inputs for the result builders: a two-instance study with one registration warning. */
import { OUT_OF_DISTRIBUTION_WARNING } from '@xray/shared';
import sharp from 'sharp';
import type { InstanceResult, ProducerIdentity, StudyReportInput } from '../src/results';

export const STUDY_UID = '1.2.826.0.1.3680043.8.498.10001';
export const SERIES_UID = '1.2.826.0.1.3680043.8.498.10002';
const CR_IMAGE = '1.2.840.10008.5.1.4.1.1.1';

export const MODEL = {
  name: 'bodypart-efficientnet',
  version: '1.2.0',
  sha256: 'a3f1c9e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6',
};
export const PRODUCER: ProducerIdentity = {
  manufacturer: 'xray-bodypart project',
  modelName: 'xray-bodypart',
  softwareVersion: '0.1.0',
};

export function instanceResult(overrides: Partial<InstanceResult> & { n: number }): InstanceResult {
  const { n, ...rest } = overrides;
  return {
    resultId: `00000000-0000-4000-8000-00000000000${n}`,
    source: {
      SOPClassUID: CR_IMAGE,
      SOPInstanceUID: `${SERIES_UID}.${n}`,
      SeriesInstanceUID: SERIES_UID,
      Rows: 300,
      Columns: 240,
      Modality: 'CR',
      BodyPartExamined: 'CHEST',
      InstanceNumber: n,
    },
    prediction: {
      label: 'Chest',
      classIndex: 3,
      confidence: 0.9731,
      band: 'green',
      top5: [
        { label: 'Chest', probability: 0.9731 },
        { label: 'Abdomen', probability: 0.0112 },
        { label: 'Thoracic Spine', probability: 0.0081 },
        { label: 'Others', probability: 0.0042 },
        { label: 'Shoulder', probability: 0.0017 },
      ],
      warnings: [],
      oodScore: 0.8,
    },
    registration: { status: 'agrees' },
    warnings: [],
    ...rest,
  };
}

export function studyInput(overrides: Partial<StudyReportInput> = {}): StudyReportInput {
  return {
    study: {
      SpecificCharacterSet: 'ISO_IR 100',
      PatientName: 'Doe^Jane',
      PatientID: 'PAT-001',
      PatientBirthDate: '19700101',
      PatientSex: 'F',
      StudyInstanceUID: STUDY_UID,
      StudyDate: '20261201',
      StudyTime: '101500',
      ReferringPhysicianName: '',
      StudyID: 'S1',
      AccessionNumber: 'ACC-42',
      StudyDescription: 'XR CHEST PA',
    },
    instances: [
      instanceResult({ n: 1 }),
      instanceResult({
        n: 2,
        source: { ...instanceResult({ n: 2 }).source, BodyPartExamined: 'HAND' },
        prediction: {
          label: 'Others',
          classIndex: 14,
          confidence: 0.61,
          band: 'red',
          top5: [
            { label: 'Others', probability: 0.61 },
            { label: 'Hand', probability: 0.2 },
            { label: 'Wrist', probability: 0.1 },
            { label: 'Finger', probability: 0.05 },
            { label: 'Forearm', probability: 0.02 },
          ],
          warnings: [],
          oodScore: 1.1,
        },
        registration: { status: 'disagrees', message: 'Header says HAND; the model sees Others' },
        warnings: ['Image was decoded from a lossy JPEG transfer syntax'],
      }),
    ],
    model: MODEL,
    producer: PRODUCER,
    completedAt: new Date('2026-12-07T13:45:30.000Z'),
    ...overrides,
  };
}

/** The instance as one the model found unlike its training radiographs (a photo, a form...). */
export function outOfDistribution(result: InstanceResult, oodScore: number | null = 3.14159): InstanceResult {
  return { ...result, prediction: { ...result.prediction, warnings: [OUT_OF_DISTRIBUTION_WARNING], oodScore } };
}

/** A small heatmap-like overlay PNG (a colour gradient), not the image's size on purpose. */
export async function overlayPng(width = 120, height = 150): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.round((255 * x) / width);
      raw[i + 1] = Math.round((255 * y) / height);
      raw[i + 2] = 128;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
