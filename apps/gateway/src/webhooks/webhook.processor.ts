import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { checkDatabase, isDatabaseUnavailable } from '@xray/db';
import { CONFIG, DATA_SOURCE, LOGGER, REDIS, WebhookHandler, type WebhookJob } from '@xray/pipeline';
import { ProgressHeartbeat, QueueWorker, XrayMetrics, watchWorker, type AppConfig, type Logger } from '@xray/platform';
import { QUEUES, type JobOutcome } from '@xray/shared';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * The `webhook` queue's BullMQ worker, in the gateway process: sending is I/O only, so it
 * needs no model and scales with the gateway. Each job goes to WebhookHandler.
 */
@Injectable()
export class WebhookProcessor extends QueueWorker<WebhookJob> implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(REDIS) redis: Redis,
    private readonly handler: WebhookHandler,
    private readonly metrics: XrayMetrics,
    private readonly heartbeat: ProgressHeartbeat,
  ) {
    super(QUEUES.webhook, {
      config,
      logger,
      concurrency: config.webhooks.concurrency,
      // A PostgreSQL outage puts deliveries back without using up one of their WEBHOOK_MAX_ATTEMPTS.
      isOutage: isDatabaseUnavailable,
      readiness: [
        { name: 'redis', check: () => redis.ping() },
        { name: 'postgres', check: () => checkDatabase(ds) },
      ],
    });
  }

  onApplicationBootstrap(): void {
    this.start();
    watchWorker(this.bullWorker!, { metrics: this.metrics, heartbeat: this.heartbeat });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  protected handle(job: Job<WebhookJob>): Promise<JobOutcome> {
    return this.handler.handle(job);
  }

  protected override onFinalFailure(job: Job<WebhookJob>, error: Error): Promise<void> {
    return this.handler.onFinalFailure(job, error);
  }
}
