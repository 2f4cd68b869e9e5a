import type { QueueName } from '@xray/shared';
import type { Queue } from 'bullmq';
import type { DicomExportJob } from './dicom-export/dicom-export.job';
import type { ExplainJob } from './explain/explain.job';
import type { InferenceJob } from './inference/inference.job';
import type { StudyStableJob } from './study-stable/study-stable.job';
import type { WebhookJob } from './webhook/webhook.job';

/** The payload of each queue. Payloads carry ids and object keys only: never pixels, never patient data. */
export interface JobPayloads {
  inference: InferenceJob;
  explain: ExplainJob;
  webhook: WebhookJob;
  'dicom-export': DicomExportJob;
  'study-stable': StudyStableJob;
}

export type TypedQueue<N extends QueueName> = Queue<JobPayloads[N]>;

/** BullMQ priorities: lower runs first; both are set so that `stat` always jumps `routine`. */
export const JOB_PRIORITY = { stat: 1, routine: 5 } as const;
