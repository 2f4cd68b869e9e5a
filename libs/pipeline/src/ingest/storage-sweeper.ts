import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { existingStudyIds } from '@xray/db';
import type { AppConfig, Logger } from '@xray/platform';
import { sweepOrphans, type ObjectStore } from '@xray/storage';
import type { DataSource } from 'typeorm';
import { CONFIG, DATA_SOURCE, LOGGER, OBJECT_STORE } from '../nest/tokens';

/**
 * A gateway killed mid-upload leaves objects that no study row owns and unfinished writes.
 * Every STORAGE_SWEEP_INTERVAL_MS this removes those older than STORAGE_ORPHAN_AGE_MS
 * (libs/storage sweepOrphans); committed studies are never touched.
 */
@Injectable()
export class StorageSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.sweep().catch((error) => this.logger.warn({ err: error }, 'storage sweep failed')),
      this.config.storageSweep.intervalMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (!this.ds.isInitialized) return;
    const result = await sweepOrphans(this.store, {
      olderThan: new Date(Date.now() - this.config.storageSweep.orphanAgeMs),
      existingStudies: (ids) => existingStudyIds(this.ds, ids),
    });
    if (result.orphanStudies + result.incompleteWrites > 0) this.logger.info(result, 'orphaned storage removed');
  }
}
