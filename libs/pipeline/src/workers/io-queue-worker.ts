import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { checkDatabase, isDatabaseUnavailable } from '@xray/db';
import {
  QueueWorker,
  watchWorker,
  type AppConfig,
  type Logger,
  type ProgressHeartbeat,
  type XrayMetrics,
} from '@xray/platform';
import type { JobOutcome, QueueName } from '@xray/shared';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { JobPayloads } from '../queues';

/** What an I/O queue hands each job to (the queue folder's handler). */
export interface JobHandler<T> {
  handle(job: Job<T>): Promise<JobOutcome>;
  onFinalFailure?(job: Job<T>, error: Error): Promise<void>;
}

/** The connections and observers every I/O queue worker takes from Nest. */
export interface IoQueueWorkerDeps {
  config: AppConfig;
  logger: Logger;
  ds: DataSource;
  redis: Redis;
  metrics: XrayMetrics;
  heartbeat: ProgressHeartbeat;
}

/**
 * A queue worker for jobs that need no model (webhooks, DICOM export, study-stable checks), run in
 * the gateway process: ready with Redis and Postgres, started at bootstrap and drained at shutdown,
 * watched by the metrics and heartbeat; a database outage puts a job back without spending one of
 * its attempts. Subclasses name the queue, the concurrency and the handler.
 */
export abstract class IoQueueWorker<N extends QueueName>
  extends QueueWorker<JobPayloads[N]>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  protected constructor(
    name: N,
    concurrency: number,
    private readonly handler: JobHandler<JobPayloads[N]>,
    private readonly deps: IoQueueWorkerDeps,
  ) {
    super(name, {
      config: deps.config,
      logger: deps.logger,
      concurrency,
      isOutage: isDatabaseUnavailable,
      readiness: [
        { name: 'redis', check: () => deps.redis.ping() },
        { name: 'postgres', check: () => checkDatabase(deps.ds) },
      ],
    });
  }

  onApplicationBootstrap(): void {
    this.start();
    watchWorker(this.bullWorker!, { metrics: this.deps.metrics, heartbeat: this.deps.heartbeat });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  protected handle(job: Job<JobPayloads[N]>): Promise<JobOutcome> {
    return this.handler.handle(job);
  }

  protected override async onFinalFailure(job: Job<JobPayloads[N]>, error: Error): Promise<void> {
    await this.handler.onFinalFailure?.(job, error);
  }
}
