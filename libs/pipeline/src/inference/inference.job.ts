import { createQueue, type AppConfig } from '@xray/platform';
import { QUEUES, type Priority } from '@xray/shared';
import { JOB_PRIORITY, type TypedQueue } from '../queues';

/** Classify one stored image (the `inference` queue). */
export interface InferenceJob {
  instanceId: string;
  studyId: string;
  clientId: string;
  /** Object-storage key of the uploaded file. */
  objectKey: string;
  correlationId: string;
}

/** The inference queue; its jobs retry with JOB_ATTEMPTS / JOB_BACKOFF_MS. */
export function createInferenceQueue(config: AppConfig): TypedQueue<'inference'> {
  return createQueue<InferenceJob>(QUEUES.inference, config);
}

/**
 * Queues images for classification. The instance id is the job id, so a repeated enqueue
 * (the queue sweeper, a retried request) never makes a second job; `stat` studies go first.
 */
export async function enqueueInference(
  queue: TypedQueue<'inference'>,
  jobs: Array<{ job: InferenceJob; priority: Priority }>,
): Promise<void> {
  if (jobs.length === 0) return;
  await queue.addBulk(
    jobs.map(({ job, priority }) => ({
      name: 'classify',
      data: job,
      opts: { jobId: job.instanceId, priority: JOB_PRIORITY[priority] },
    })),
  );
}
