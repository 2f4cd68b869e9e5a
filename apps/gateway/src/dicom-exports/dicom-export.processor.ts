import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, DATA_SOURCE, DicomExportHandler, IoQueueWorker, LOGGER, REDIS } from '@xray/pipeline';
import { ProgressHeartbeat, XrayMetrics, type AppConfig, type Logger } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * The `dicom-export` queue's BullMQ worker, in the gateway process like webhooks: it needs no
 * model, and its CPU work (one sharp resize + text per Secondary Capture, built once per study)
 * runs on libuv's thread pool, not the event loop, so a few at once (DICOM_EXPORT_CONCURRENCY)
 * cost the API nothing visible. The rest is network I/O to the destinations.
 */
@Injectable()
export class DicomExportProcessor extends IoQueueWorker<'dicom-export'> {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(REDIS) redis: Redis,
    handler: DicomExportHandler,
    metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super(QUEUES.dicomExport, config.dicom.export.concurrency, handler, {
      config,
      logger,
      ds,
      redis,
      metrics,
      heartbeat,
    });
  }
}
