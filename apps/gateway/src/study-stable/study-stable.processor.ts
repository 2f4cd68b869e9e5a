import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, DATA_SOURCE, IoQueueWorker, LOGGER, REDIS, StudyStableHandler } from '@xray/pipeline';
import { ProgressHeartbeat, XrayMetrics, type AppConfig, type Logger } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/** Checks run at once: each is a few database reads. */
const STUDY_STABLE_CONCURRENCY = 4;

/**
 * The `study-stable` queue's worker, in the gateway process (like webhooks, a few database
 * reads and no model): DICOM and STOW-RS studies complete here. Each job goes to StudyStableHandler.
 */
@Injectable()
export class StudyStableProcessor extends IoQueueWorker<'study-stable'> {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(REDIS) redis: Redis,
    handler: StudyStableHandler,
    metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super(QUEUES.studyStable, STUDY_STABLE_CONCURRENCY, handler, { config, logger, ds, redis, metrics, heartbeat });
  }
}
