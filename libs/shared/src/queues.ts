/**
 * BullMQ queue names and job payloads. Payloads carry ids and object keys only:
 * never pixels, never patient data.
 */
export const QUEUES = {
  inference: 'inference',
  explain: 'explain',
  webhook: 'webhook',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface InferenceJob {
  instanceId: string;
  studyId: string;
  clientId: string;
  /** Object-storage key of the uploaded file. */
  objectKey: string;
  correlationId: string;
}

export interface ExplainJob {
  instanceId: string;
  studyId: string;
  clientId: string;
  objectKey: string;
  /** The prediction being explained: the explain worker must use the same model version. */
  predictionId: string;
  correlationId: string;
}

export interface WebhookJob {
  deliveryId: string;
  correlationId: string;
}

export interface JobPayloads {
  inference: InferenceJob;
  explain: ExplainJob;
  webhook: WebhookJob;
}

/** What a job handler reports (immich style). */
export type JobOutcome = 'success' | 'skipped' | 'failed';
