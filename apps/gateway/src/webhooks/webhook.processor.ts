import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, DATA_SOURCE, IoQueueWorker, LOGGER, REDIS, WebhookHandler } from '@xray/pipeline';
import { ProgressHeartbeat, XrayMetrics, type AppConfig, type Logger } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * The `webhook` queue's BullMQ worker, in the gateway process: sending is I/O only, so it
 * needs no model and scales with the gateway. Each job goes to WebhookHandler.
 */
@Injectable()
export class WebhookProcessor extends IoQueueWorker<'webhook'> {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(REDIS) redis: Redis,
    handler: WebhookHandler,
    metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super(QUEUES.webhook, config.webhooks.concurrency, handler, { config, logger, ds, redis, metrics, heartbeat });
  }
}
