import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { findStaleQueuedInstances } from '@xray/db';
import type { AppConfig, Logger } from '@xray/platform';
import type { DataSource } from 'typeorm';
import { CONFIG, DATA_SOURCE, INFERENCE_QUEUE, LOGGER } from '../nest/tokens';
import type { TypedQueue } from '../queues';
import { enqueueInference } from './inference.job';

/**
 * A study is committed to Postgres before its jobs are enqueued; if the gateway dies or Redis
 * fails in between (an upload answers 202 even while Redis is down), its instances would stay
 * `queued` forever. Every QUEUE_SWEEP_INTERVAL_MS this re-enqueues instances queued for over
 * QUEUE_SWEEP_AFTER_MS (seconds, so that recovery after an outage is prompt). The instance id is
 * the job id, so an instance whose job still exists is not enqueued twice (BullMQ ignores the duplicate add).
 */
@Injectable()
export class QueueSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(INFERENCE_QUEUE) private readonly inference: TypedQueue<'inference'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.sweep().catch((error) => this.logger.warn({ err: error }, 'queue sweep failed')),
      this.config.queueSweep.intervalMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<number> {
    if (!this.ds.isInitialized) return 0;
    const stale = await findStaleQueuedInstances(this.ds, this.config.queueSweep.afterMs / 1000);
    if (stale.length === 0) return 0;
    await enqueueInference(
      this.inference,
      stale.map(({ priority, ...job }) => ({ job, priority })),
    );
    this.logger.info({ instances: stale.length }, 'queued instances re-enqueued (duplicates are ignored)');
    return stale.length;
  }
}
