/**
 * BullMQ queue names (the deployment manifests scale workers by them). The payload of each
 * queue lives with its producer and handler in libs/pipeline.
 */
export const QUEUES = {
  inference: 'inference',
  explain: 'explain',
  webhook: 'webhook',
  dicomExport: 'dicom-export',
  studyStable: 'study-stable',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** What a job handler reports (immich style). */
export type JobOutcome = 'success' | 'skipped' | 'failed';
