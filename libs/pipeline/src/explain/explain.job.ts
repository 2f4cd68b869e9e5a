import { createQueue, type AppConfig } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { TypedQueue } from '../queues';

/** Explain one stored prediction with Grad-CAM++ (the `explain` queue). */
export interface ExplainJob {
  instanceId: string;
  studyId: string;
  clientId: string;
  objectKey: string;
  /** The prediction being explained: the explain worker must use the same model version. */
  predictionId: string;
  correlationId: string;
}

/** The explain queue; its jobs retry with JOB_ATTEMPTS / JOB_BACKOFF_MS. */
export function createExplainQueue(config: AppConfig): TypedQueue<'explain'> {
  return createQueue<ExplainJob>(QUEUES.explain, config);
}

/**
 * Queues the explanation of a prediction. The prediction id is the job id: re-enqueueing
 * never makes a second explanation job. `bullPriority` is the inference job's, so a stat
 * study stays ahead.
 */
export async function enqueueExplain(
  queue: TypedQueue<'explain'>,
  job: ExplainJob,
  bullPriority: number | undefined,
): Promise<void> {
  await queue.add('explain', job, { jobId: job.predictionId, priority: bullPriority });
}
