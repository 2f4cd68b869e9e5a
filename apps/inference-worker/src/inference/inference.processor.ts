import { Inject, Injectable } from '@nestjs/common';
import {
  CONFIG,
  DATA_SOURCE,
  InferenceHandler,
  LOGGER,
  ModelQueueWorker,
  OBJECT_STORE,
  REDIS,
  infraReadiness,
  type InferenceJob,
} from '@xray/pipeline';
import { ProgressHeartbeat, XrayMetrics, type AppConfig, type Logger, type StageTimer } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import type { ObjectStore } from '@xray/storage';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ModelHost } from '../model/model-host';

/** The `inference` queue's BullMQ worker: takes jobs once ready, hands each to InferenceHandler. */
@Injectable()
export class InferenceProcessor extends ModelQueueWorker<'inference'> {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(OBJECT_STORE) store: ObjectStore,
    @Inject(REDIS) redis: Redis,
    private readonly handler: InferenceHandler,
    model: ModelHost,
    metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super('inference', {
      config,
      logger,
      concurrency: config.inference.concurrency,
      readiness: infraReadiness(redis, ds, store),
      model,
      metrics,
      heartbeat,
    });
    model.onBatch = (modelMs, size) => metrics.observeModelTime(modelMs, size, 'classify');
  }

  protected handleTimed(job: Job<InferenceJob>, stages: StageTimer): Promise<JobOutcome> {
    return this.handler.handle(job, stages);
  }

  protected override onFinalFailure(job: Job<InferenceJob>, error: Error): Promise<void> {
    return this.handler.onFinalFailure(job, error);
  }
}
