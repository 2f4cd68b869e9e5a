import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { checkDatabase } from '@xray/db';
import { CONFIG, DATA_SOURCE, LOGGER, REDIS, StudyStableHandler, type StudyStableJob } from '@xray/pipeline';
import { QueueWorker, type AppConfig, type Logger } from '@xray/platform';
import { QUEUES, type JobOutcome } from '@xray/shared';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * The `study-stable` queue's worker, in the gateway process (like webhooks, a few database
 * reads and no model): DICOM and STOW-RS studies complete here. Each job goes to StudyStableHandler.
 */
@Injectable()
export class StudyStableProcessor
  extends QueueWorker<StudyStableJob>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(REDIS) redis: Redis,
    private readonly handler: StudyStableHandler,
  ) {
    super(QUEUES.studyStable, {
      config,
      logger,
      concurrency: 4,
      readiness: [
        { name: 'redis', check: () => redis.ping() },
        { name: 'postgres', check: () => checkDatabase(ds) },
      ],
    });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  protected handle(job: Job<StudyStableJob>): Promise<JobOutcome> {
    return this.handler.handle(job);
  }
}
