import { createQueue, type AppConfig } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { JobsOptions } from 'bullmq';
import type { TypedQueue } from '../queues';

/** Send one webhook delivery (the `webhook` queue). */
export interface WebhookJob {
  deliveryId: string;
  correlationId: string;
}

/** Webhook jobs retry on their own schedule (about an hour by default), whoever enqueues them. */
export function webhookJobOptions(config: AppConfig): JobsOptions {
  return { attempts: config.webhooks.maxAttempts, backoff: { type: 'exponential', delay: config.webhooks.backoffMs } };
}

/** The webhook queue with its retry schedule. */
export function createWebhookQueue(config: AppConfig): TypedQueue<'webhook'> {
  return createQueue<WebhookJob>(QUEUES.webhook, config, webhookJobOptions(config));
}

/**
 * Queues a delivery. The delivery id is the job id, so recording progress twice never sends
 * twice; a manual retry of a failed delivery (`retry`) gets a job id of its own.
 */
export async function enqueueWebhookDelivery(
  queue: TypedQueue<'webhook'>,
  job: WebhookJob,
  options: { retry?: boolean } = {},
): Promise<void> {
  const jobId = options.retry ? `${job.deliveryId}-retry-${Date.now()}` : job.deliveryId;
  await queue.add('deliver', job, { jobId });
}
