import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { checkDatabase, createDataSource } from '@xray/db';
import { createObjectStore, type ObjectStore } from '@xray/storage';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { StatusPublisher, type AppConfig, type HealthCheck, type Logger } from '@xray/platform';
import { createDicomExportQueue } from '../dicom-export/dicom-export.job';
import { createExplainQueue } from '../explain/explain.job';
import { createInferenceQueue } from '../inference/inference.job';
import { createStudyStableQueue } from '../study-stable/study-stable.job';
import type { TypedQueue } from '../queues';
import { createWebhookQueue } from '../webhook/webhook.job';
import {
  CONFIG,
  DATA_SOURCE,
  DICOM_EXPORT_QUEUE,
  EXPLAIN_QUEUE,
  INFERENCE_QUEUE,
  LOGGER,
  OBJECT_STORE,
  REDIS,
  STATUS_PUBLISHER,
  STUDY_STABLE_QUEUE,
  WEBHOOK_QUEUE,
} from './tokens';

/**
 * The connections every app shares: config, logger, Postgres, object storage, Redis, the
 * queue producers and the live status publisher. Closed in order on shutdown.
 */
@Global()
@Module({})
export class InfraModule implements OnApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(INFERENCE_QUEUE) private readonly inference: TypedQueue<'inference'>,
    @Inject(EXPLAIN_QUEUE) private readonly explain: TypedQueue<'explain'>,
    @Inject(WEBHOOK_QUEUE) private readonly webhooks: TypedQueue<'webhook'>,
    @Inject(DICOM_EXPORT_QUEUE) private readonly dicomExports: TypedQueue<'dicom-export'>,
    @Inject(STUDY_STABLE_QUEUE) private readonly studyStable: TypedQueue<'study-stable'>,
    @Inject(STATUS_PUBLISHER) private readonly status: StatusPublisher,
  ) {}

  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        {
          provide: DATA_SOURCE,
          useFactory: async () => {
            const ds = createDataSource(config.databaseUrl);
            // Postgres down at boot is not fatal: readiness reports it and checkDatabase reconnects.
            await ds
              .initialize()
              .catch((error: Error) => logger.error({ err: error.message }, 'postgres not reachable at boot'));
            return ds;
          },
        },
        { provide: OBJECT_STORE, useValue: createObjectStore(config.storage) },
        { provide: REDIS, useFactory: () => new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) },
        { provide: INFERENCE_QUEUE, useFactory: () => createInferenceQueue(config) },
        { provide: EXPLAIN_QUEUE, useFactory: () => createExplainQueue(config) },
        { provide: WEBHOOK_QUEUE, useFactory: () => createWebhookQueue(config) },
        { provide: DICOM_EXPORT_QUEUE, useFactory: () => createDicomExportQueue(config) },
        { provide: STUDY_STABLE_QUEUE, useFactory: () => createStudyStableQueue(config) },
        { provide: STATUS_PUBLISHER, useFactory: () => new StatusPublisher(config) },
      ],
      exports: [
        CONFIG,
        LOGGER,
        DATA_SOURCE,
        OBJECT_STORE,
        REDIS,
        INFERENCE_QUEUE,
        EXPLAIN_QUEUE,
        WEBHOOK_QUEUE,
        DICOM_EXPORT_QUEUE,
        STUDY_STABLE_QUEUE,
        STATUS_PUBLISHER,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([
      this.inference.close(),
      this.explain.close(),
      this.webhooks.close(),
      this.dicomExports.close(),
      this.studyStable.close(),
      this.status.close(),
    ]);
    this.redis.disconnect();
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** Readiness checks of the shared dependencies: Redis, Postgres (schema up to date) and storage. */
export function infraReadiness(redis: Redis, ds: DataSource, store: ObjectStore): HealthCheck[] {
  return [
    { name: 'redis', check: () => redis.ping() },
    { name: 'postgres', check: () => checkDatabase(ds) },
    { name: 'storage', check: () => store.check() },
  ];
}
