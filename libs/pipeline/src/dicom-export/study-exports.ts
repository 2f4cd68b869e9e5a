import { findStudyOwner, loadStudyRecords, recordStudyDicomObjects } from '@xray/db';
import type { DataSource } from 'typeorm';
import type { TypedQueue } from '../queues';
import { enqueueDicomExport } from './dicom-export.job';
import { planStudyObjects } from './study-objects-plan';

/**
 * When a study completed: records its DICOM objects (UIDs only: the export job builds them) and
 * a pending delivery to each of the client's destinations, and queues one export job per
 * destination. Cheap and idempotent, so progress recording can call it every time.
 */
export async function recordStudyExports(
  ds: DataSource,
  queue: TypedQueue<'dicom-export'>,
  studyId: string,
  correlationId: string,
): Promise<void> {
  const [[record], owner] = await Promise.all([loadStudyRecords(ds, [studyId]), findStudyOwner(ds, studyId)]);
  const plan = record && planStudyObjects(record);
  if (!plan || !owner) return;
  const destinationIds = await recordStudyDicomObjects(ds, { clientId: owner.clientId, studyId }, plan.objects);
  for (const destinationId of destinationIds)
    await enqueueDicomExport(queue, { studyId, destinationId, correlationId });
}
