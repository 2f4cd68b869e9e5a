import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { checkDatabase } from '@xray/db';
import { CONFIG, DATA_SOURCE, DicomExportHandler, LOGGER, REDIS, type DicomExportJob } from '@xray/pipeline';
import { ProgressHeartbeat, QueueWorker, XrayMetrics, watchWorker, type AppConfig, type Logger } from '@xray/platform';
import { QUEUES, type JobOutcome } from '@xray/shared';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * The `dicom-export` queue's BullMQ worker, in the gateway process like webhooks: it needs no
 * model, and its CPU work (one sharp resize + text per Secondary Capture, built once per study)
 * runs on libuv's thread pool, not the event loop, so a few at once (DICOM_EXPORT_CONCURRENCY)
 * cost the API nothing visible. The rest is network I/O to the destinations.
 */
@Injectable()
export class DicomExportProcessor
  extends QueueWorker<DicomExportJob>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(REDIS) redis: Redis,
    private readonly handler: DicomExportHandler,
    private readonly metrics: XrayMetrics,
    private readonly heartbeat: ProgressHeartbeat,
  ) {
    super(QUEUES.dicomExport, {
      config,
      logger,
      concurrency: config.dicom.export.concurrency,
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

  protected handle(job: Job<DicomExportJob>): Promise<JobOutcome> {
    return this.handler.handle(job);
  }

  protected override onFinalFailure(job: Job<DicomExportJob>, error: Error): Promise<void> {
    return this.handler.onFinalFailure(job, error);
  }
}
