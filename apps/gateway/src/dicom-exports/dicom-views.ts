import type { DicomDeliveryRecord } from '@xray/db';

/** One DICOM object's delivery to one destination, as the API shows it. */
export interface DicomDeliveryDto {
  id: string;
  studyId: string;
  sopInstanceUid: string;
  kind: 'sr' | 'sc';
  instanceId: string | null;
  destination: { id: string; transport: 'dimse' | 'stow'; target: string; removed: boolean };
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export function dicomDeliveryView({
  cursorAt: _,
  deliveredAt,
  createdAt,
  ...rest
}: DicomDeliveryRecord): DicomDeliveryDto {
  return { ...rest, deliveredAt: deliveredAt ? deliveredAt.toISOString() : null, createdAt: createdAt.toISOString() };
}
