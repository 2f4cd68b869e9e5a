import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { findStaleQueuedInstances } from '@xray/db';
import type { Logger } from '@xray/platform';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, INFERENCE_QUEUE, LOGGER } from '../nest/tokens';
import type { TypedQueue } from '../queues';
import { enqueueInference } from './inference.job';

const SWEEP_EVERY_MS = 60_000;
const QUEUED_FOR_S = 120;

/**
 * A study is committed to Postgres before its jobs are enqueued; if the gateway dies or Redis
 * fails in between, its instances would stay `queued` forever. Every minute this re-enqueues
 * instances queued for over two minutes. The instance id is the job id, so an instance whose
 * job still exists is not enqueued twice (BullMQ ignores the duplicate add).
 */
@Injectable()
export class QueueSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(INFERENCE_QUEUE) private readonly inference: TypedQueue<'inference'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.sweep().catch((error) => this.logger.warn({ err: error }, 'queue sweep failed')),
      SWEEP_EVERY_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<number> {
    if (!this.ds.isInitialized) return 0;
    const stale = await findStaleQueuedInstances(this.ds, QUEUED_FOR_S);
    if (stale.length === 0) return 0;
    await enqueueInference(
      this.inference,
      stale.map(({ priority, ...job }) => ({ job, priority })),
    );
    this.logger.info({ instances: stale.length }, 'queued instances re-enqueued (duplicates are ignored)');
    return stale.length;
  }
}
