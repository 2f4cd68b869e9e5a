import type { DicomDeliveryRecord } from '@xray/db';
import type { DicomDeliveryDto } from '@xray/shared';

export function dicomDeliveryView({
  cursorAt: _,
  deliveredAt,
  createdAt,
  ...rest
}: DicomDeliveryRecord): DicomDeliveryDto {
  return { ...rest, deliveredAt: deliveredAt ? deliveredAt.toISOString() : null, createdAt: createdAt.toISOString() };
}
