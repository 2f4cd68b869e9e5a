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
import { ObservabilityModule, QueueDashboardModule, type AppConfig, type Logger } from '@xray/platform';
import type { ObjectStore } from '@xray/storage';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { AuthService } from './auth/auth.service';
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
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(config, logger),
        ObservabilityModule.forRootAsync({
          app: 'gateway',
          inject: [REDIS, DATA_SOURCE, OBJECT_STORE, ...QUEUE_TOKENS],
          useFactory: (redis: Redis, ds: DataSource, store: ObjectStore, ...queues: TypedQueue<any>[]) => ({
            readiness: infraReadiness(redis, ds, store),
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
        EventsModule,
        WebModule,
        DicomwebModule,
        StudyStableModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ErrorFilter }],
    };
  }
}
