import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  CONFIG,
  DATA_SOURCE,
  INFERENCE_QUEUE,
  JOB_PRIORITY,
  LOGGER,
  type AppConfig,
  type Logger,
  type TypedQueue,
} from '@xray/platform';
import type { DataSource } from 'typeorm';

/**
 * A study is committed to Postgres before its jobs are enqueued; if the gateway dies or Redis
 * fails in between (an upload answers 202 even while Redis is down), its instances would stay
 * `queued` forever. Every QUEUE_SWEEP_INTERVAL_MS this re-enqueues instances queued for over
 * QUEUE_SWEEP_AFTER_MS (seconds, so that recovery after an outage is prompt). The instance id is the job id, so an instance whose
 * job still exists is not enqueued twice (BullMQ ignores the duplicate add).
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
    const rows: Array<{
      id: string;
      study_id: string;
      client_id: string;
      object_key: string;
      correlation_id: string;
      priority: 'routine' | 'stat';
    }> = await this.ds.query(
      `SELECT i.id, i.study_id, i.client_id, i.object_key, s.correlation_id, s.priority
         FROM instances i JOIN studies s ON s.id = i.study_id
        WHERE i.status = 'queued' AND i.created_at < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY i.created_at LIMIT 500`,
      [this.config.queueSweep.afterMs],
    );
    if (rows.length === 0) return 0;
    await this.inference.addBulk(
      rows.map((r) => ({
        name: 'classify',
        data: {
          instanceId: r.id,
          studyId: r.study_id,
          clientId: r.client_id,
          objectKey: r.object_key,
          correlationId: r.correlation_id,
        },
        opts: { jobId: r.id, priority: JOB_PRIORITY[r.priority] },
      })),
    );
    this.logger.info({ instances: rows.length }, 'queued instances re-enqueued (duplicates are ignored)');
    return rows.length;
  }
}
