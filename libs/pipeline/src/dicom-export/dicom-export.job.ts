import { createQueue, type AppConfig } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { JobsOptions } from 'bullmq';
import type { TypedQueue } from '../queues';

/**
 * Export one completed study's DICOM results to one destination (the `dicom-export` queue). One
 * job per destination, so a destination that is down delays no other.
 */
export interface DicomExportJob {
  studyId: string;
  destinationId: string;
  correlationId: string;
}

/** Export jobs retry on their own schedule (about 43 minutes by default), whoever enqueues them. */
export function dicomExportJobOptions(config: AppConfig): JobsOptions {
  return {
    attempts: config.dicom.export.maxAttempts,
    backoff: { type: 'exponential', delay: config.dicom.export.backoffMs },
  };
}

export function createDicomExportQueue(config: AppConfig): TypedQueue<'dicom-export'> {
  return createQueue<DicomExportJob>(QUEUES.dicomExport, config, dicomExportJobOptions(config));
}

/**
 * Queues an export. Study + destination is the job id, so recording progress twice exports
 * once; a manual retry of a failed delivery (`retry`) gets a job id of its own.
 */
export async function enqueueDicomExport(
  queue: TypedQueue<'dicom-export'>,
  job: DicomExportJob,
  options: { retry?: boolean } = {},
): Promise<void> {
  const base = `${job.studyId}_${job.destinationId}`;
  await queue.add('export', job, { jobId: options.retry ? `${base}-retry-${Date.now()}` : base });
}
