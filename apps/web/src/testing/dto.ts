/** Builders of API DTOs for the unit tests (never bundled: only specs import this). */
import { confidenceBand, type DicomFactsDto, type InstanceDto, type InstanceStatus, type StudyDto } from '@xray/shared';

export function instanceDto(
  id: string,
  options: {
    label?: string;
    confidence?: number;
    status?: InstanceStatus;
    dicom?: DicomFactsDto;
    updatedAt?: string;
  } = {},
): InstanceDto {
  const { label, confidence = 0.95 } = options;
  return {
    id,
    filename: `${id}.png`,
    status: options.status ?? (label ? 'done' : 'queued'),
    imageUrl: `/v1/instances/${id}/image`,
    prediction: label
      ? {
          label,
          classIndex: 0,
          confidence,
          band: confidenceBand(confidence),
          top5: [{ label, probability: confidence }],
          warnings: [],
          oodScore: null,
        }
      : null,
    explanation: null,
    error: null,
    dicom: options.dicom ?? null,
    model: null,
    preprocessing: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: options.updatedAt ?? '2026-01-01T00:00:00.000Z',
  };
}

export function studyDto(id: string, instances: InstanceDto[], overrides: Partial<StudyDto> = {}): StudyDto {
  return {
    id,
    status: 'processing',
    accessionNumber: null,
    priority: 'routine',
    callbackUrl: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    instances,
    ...overrides,
  };
}
