import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { findDicomNode } from '@xray/db';
import { DicomListener, ListenerMetrics } from '@xray/dicom';
import { CONFIG, DATA_SOURCE, DicomIngestService, LOGGER } from '@xray/pipeline';
import { XrayMetrics, type AppConfig, type Logger } from '@xray/platform';
import type { DataSource } from 'typeorm';

/** Runs the DIMSE listener for the app's lifetime; instances go through the one DicomIngestService. */
@Injectable()
export class ListenerService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly listener: DicomListener;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) ds: DataSource,
    ingest: DicomIngestService,
    metrics: XrayMetrics,
  ) {
    this.listener = new DicomListener(
      {
        port: config.dicom.port,
        host: process.env.HOST,
        aeTitle: config.dicom.aeTitle,
        maxAssociations: config.dicom.maxAssociations,
        associationTimeoutMs: config.dicom.associationTimeoutMs,
        idleTimeoutMs: config.dicom.idleTimeoutMs,
        maxInstanceBytes: config.maxUploadBytes,
      },
      {
        findNode: (aeTitle) => findDicomNode(ds, aeTitle),
        storeInstance: (clientId, part10, sourceAeTitle) => ingest.storeInstance(clientId, part10, { sourceAeTitle }),
        metrics: new ListenerMetrics(metrics.registry),
        logger,
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start();
    this.logger.info({ dicomPort: this.listener.port, aeTitle: this.config.dicom.aeTitle }, 'DICOM listener listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener.stop();
  }
}
