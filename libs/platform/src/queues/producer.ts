import { Queue, type JobsOptions } from 'bullmq';
import type { AppConfig } from '../config';
import { redisOptions } from './connection';

/** A producer for one queue with the retry policy every job of that queue gets (overridable per queue). */
export function createQueue<T>(name: string, config: AppConfig, overrides: JobsOptions = {}): Queue<T> {
  return new Queue<T>(name, {
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
