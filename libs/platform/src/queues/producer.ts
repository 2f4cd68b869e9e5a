import { Queue, type JobsOptions } from 'bullmq';
import type { JobPayloads, QueueName } from '@xray/shared';
import type { AppConfig } from '../config';
import { redisOptions } from './connection';

/** BullMQ priorities: lower runs first; both are set so that `stat` always jumps `routine`. */
export const JOB_PRIORITY = { stat: 1, routine: 5 } as const;

export type TypedQueue<N extends QueueName> = Queue<JobPayloads[N]>;

/** A producer for one queue with the retry policy every job of that queue gets. */
export function createQueue<N extends QueueName>(
  name: N,
  config: AppConfig,
  overrides: JobsOptions = {},
): TypedQueue<N> {
  return new Queue<JobPayloads[N]>(name, {
    connection: redisOptions(config.redisUrl),
    prefix: config.queuePrefix,
    defaultJobOptions: {
      attempts: config.jobs.attempts,
      backoff: { type: 'exponential', delay: config.jobs.backoffMs },
      removeOnComplete: { count: config.jobs.keepCompleted },
      removeOnFail: { count: config.jobs.keepFailed },
      ...overrides,
    },
  });
}

/** Webhook jobs retry on their own schedule (about an hour by default), whoever enqueues them. */
export function webhookJobOptions(config: AppConfig): JobsOptions {
  return { attempts: config.webhooks.maxAttempts, backoff: { type: 'exponential', delay: config.webhooks.backoffMs } };
}

/** The webhook queue with its retry schedule. */
export function createWebhookQueue(config: AppConfig): TypedQueue<'webhook'> {
  return createQueue('webhook', config, webhookJobOptions(config));
}
