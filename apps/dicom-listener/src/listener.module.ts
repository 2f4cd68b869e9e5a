import { Module, type DynamicModule } from '@nestjs/common';
import {
  DATA_SOURCE,
  DicomIngestService,
  InfraModule,
  OBJECT_STORE,
  REDIS,
  StudyIngestService,
  infraReadiness,
} from '@xray/pipeline';
import { ObservabilityModule, signalCheck, type AppConfig, type Logger } from '@xray/platform';
import type { ObjectStore } from '@xray/storage';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ListenerService } from './listener.service';

@Module({ providers: [StudyIngestService, DicomIngestService, ListenerService], exports: [ListenerService] })
class ListenerPartsModule {}

/** Infrastructure, the DIMSE listener, and /health + /metrics (ready once the port is bound and the infra answers). */
@Module({})
export class DicomListenerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: DicomListenerModule,
      imports: [
        InfraModule.forRoot(config, logger),
        ListenerPartsModule,
        ObservabilityModule.forRootAsync({
          app: 'dicom-listener',
          imports: [ListenerPartsModule],
          inject: [REDIS, DATA_SOURCE, OBJECT_STORE, ListenerService],
          useFactory: (redis: Redis, ds: DataSource, store: ObjectStore, service: ListenerService) => ({
            readiness: [
              ...infraReadiness(redis, ds, store),
              signalCheck('dicom', () => service.listener.ready, 'the DICOM port is not bound yet'),
            ],
          }),
        }),
      ],
    };
  }
}
