/** Where a study's DICOM results went: one line per destination. Pure functions, no DOM. */
import type { StudyDicomDto } from '@xray/shared';

export interface DestinationSummary {
  target: string;
  transport: 'dimse' | 'stow';
  delivered: number;
  pending: number;
  failed: number;
  /** The most recent error of an object not delivered. */
  lastError: string | null;
  /** 'delivered' when every object arrived, 'failed' when any failed for good, else 'pending'. */
  status: 'delivered' | 'pending' | 'failed';
}

export function summariseDestinations(dicom: StudyDicomDto): DestinationSummary[] {
  const byDestination = new Map<string, DestinationSummary>();
  for (const object of dicom.objects)
    for (const delivery of object.deliveries) {
      const summary = byDestination.get(delivery.destination.id) ?? {
        target: delivery.destination.target,
        transport: delivery.destination.transport,
        delivered: 0,
        pending: 0,
        failed: 0,
        lastError: null,
        status: 'delivered',
      };
      summary[delivery.status] += 1;
      if (delivery.status !== 'delivered' && delivery.lastError) summary.lastError = delivery.lastError;
      summary.status = summary.failed ? 'failed' : summary.pending ? 'pending' : 'delivered';
      byDestination.set(delivery.destination.id, summary);
    }
  return [...byDestination.values()];
}
