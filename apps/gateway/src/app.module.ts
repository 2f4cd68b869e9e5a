import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  DATA_SOURCE,
  InfraModule,
  OBJECT_STORE,
  QUEUE_TOKENS,
  REDIS,
  infraReadiness,
  type TypedQueue,
} from '@xray/pipeline';
import {
  ObservabilityModule,
  QueueDashboardModule,
  type AppConfig,
  type Logger,
  type StatusEventServer,
} from '@xray/platform';
import type { ObjectStore } from '@xray/storage';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { AuthService } from './auth/auth.service';
import { DicomExportsModule } from './dicom-exports/dicom-exports.module';
import { DicomwebModule } from './dicomweb/dicomweb.module';
import { ErrorFilter } from './errors/error.filter';
import { EventsModule } from './events/events.module';
import { InstancesModule } from './instances/instances.module';
import { StudiesModule } from './studies/studies.module';
import { WebModule } from './web/web.module';
import { StudyStableModule } from './study-stable/study-stable.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger, statusEvents: StatusEventServer): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(config, logger),
        ObservabilityModule.forRootAsync({
          app: 'gateway',
          // Metrics on a port of their own: the API port is what the Ingress publishes.
          metrics: { port: config.metricsPort, host: process.env.HOST ?? '0.0.0.0' },
          inject: [REDIS, DATA_SOURCE, OBJECT_STORE, ...QUEUE_TOKENS],
          useFactory: (redis: Redis, ds: DataSource, store: ObjectStore, ...queues: TypedQueue<any>[]) => ({
            readiness: [...infraReadiness(redis, ds, store), statusEvents.healthCheck()],
            queues,
          }),
        }),
        QueueDashboardModule.forRootAsync({
          inject: [AuthService, ...QUEUE_TOKENS],
          useFactory: (auth: AuthService, ...queues: TypedQueue<any>[]) => ({
            queues,
            isAdminKey: (key: string) => auth.isAdminKey(key),
          }),
        }),
        AuthModule,
        AuditModule,
        StudiesModule,
        InstancesModule,
        WebhooksModule,
        DicomExportsModule,
        EventsModule,
        WebModule,
        DicomwebModule,
        StudyStableModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ErrorFilter }],
    };
  }
}
