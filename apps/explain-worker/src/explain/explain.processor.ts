import { Inject, Injectable } from '@nestjs/common';
import {
  CONFIG,
  DATA_SOURCE,
  ExplainHandler,
  LOGGER,
  ModelQueueWorker,
  OBJECT_STORE,
  REDIS,
  infraReadiness,
  type ExplainJob,
} from '@xray/pipeline';
import { ProgressHeartbeat, XrayMetrics, type AppConfig, type Logger, type StageTimer } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import type { ObjectStore } from '@xray/storage';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ModelHost } from '../model/model-host';

/** The `explain` queue's BullMQ worker: takes jobs once ready, hands each to ExplainHandler. */
@Injectable()
export class ExplainProcessor extends ModelQueueWorker<'explain'> {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(OBJECT_STORE) store: ObjectStore,
    @Inject(REDIS) redis: Redis,
    private readonly handler: ExplainHandler,
    model: ModelHost,
    metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super('explain', {
      config,
      logger,
      concurrency: config.explain.concurrency,
      readiness: infraReadiness(redis, ds, store),
      model,
      metrics,
      heartbeat,
    });
  }

  protected handleTimed(job: Job<ExplainJob>, stages: StageTimer): Promise<JobOutcome> {
    return this.handler.handle(job, stages);
  }

  protected override onFinalFailure(job: Job<ExplainJob>, error: Error): Promise<void> {
    return this.handler.onFinalFailure(job, error);
  }
}
