import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { checkDatabase } from '@xray/db';
import {
  CONFIG,
  DATA_SOURCE,
  LOGGER,
  ProgressHeartbeat,
  QueueWorker,
  REDIS,
  XrayMetrics,
  watchWorker,
  type AppConfig,
  type Logger,
} from '@xray/platform';
import type { JobOutcome, WebhookEvent } from '@xray/shared';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { assertAllowedTarget } from './callback-url';
import { postWebhook } from './webhook-sender';

/**
 * Sends webhook deliveries (the `webhook` queue) from the gateway process: it is I/O only,
 * so it needs no model and scales with the gateway. Non-2xx answers and timeouts are
 * retried with exponential backoff; the event id stays the same on every attempt.
 */
@Injectable()
export class WebhookProcessor extends QueueWorker<'webhook'> implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(REDIS) redis: Redis,
    private readonly metrics: XrayMetrics,
    private readonly heartbeat: ProgressHeartbeat,
  ) {
    super('webhook', {
      config,
      logger,
      concurrency: config.webhooks.concurrency,
      readiness: [
        { name: 'redis', check: () => redis.ping() },
        { name: 'postgres', check: () => checkDatabase(ds) },
      ],
    });
  }

  onApplicationBootstrap(): void {
    this.start();
    watchWorker(this.bullWorker!, { metrics: this.metrics, heartbeat: this.heartbeat });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  protected async handle(job: Job<{ deliveryId: string }>): Promise<JobOutcome> {
    const { deliveryId } = job.data;
    const [delivery] = await this.ds.query(
      `SELECT d.id, d.url, d.status, e.payload, c.webhook_secret FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id JOIN clients c ON c.id = d.client_id WHERE d.id = $1`,
      [deliveryId],
    );
    if (!delivery || delivery.status === 'delivered') return 'skipped';
    const { config } = this.options;
    const attempt = await this.nextAttempt(deliveryId);
    try {
      await assertAllowedTarget(delivery.url, config.webhooks.allowPrivate);
    } catch (error) {
      // A target that is not allowed will not become allowed by retrying.
      await this.recordAttempt(deliveryId, attempt, {
        statusCode: null,
        error: (error as Error).message,
        durationMs: 0,
      });
      await this.markFailed(deliveryId, (error as Error).message);
      this.metrics.recordWebhookDelivery('failed', attempt);
      return 'failed';
    }
    const result = await postWebhook(
      delivery.url,
      delivery.payload as WebhookEvent,
      delivery.webhook_secret,
      config.webhooks.timeoutMs,
    );
    await this.recordAttempt(deliveryId, attempt, result);
    if (result.ok) {
      await this.ds.query(
        `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL, updated_at = now() WHERE id = $1`,
        [deliveryId],
      );
      this.metrics.recordWebhookDelivery('delivered', attempt);
      return 'success';
    }
    const error = result.error ?? 'delivery failed';
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
      // The last attempt: the delivery fails now, counted once as failed (not also as retrying).
      await this.markFailed(deliveryId, error);
      this.metrics.recordWebhookDelivery('failed', attempt);
      return 'failed';
    }
    await this.ds.query('UPDATE webhook_deliveries SET last_error = $2, updated_at = now() WHERE id = $1', [
      deliveryId,
      error,
    ]);
    this.metrics.recordWebhookDelivery('retrying', attempt);
    throw new Error(`webhook delivery ${deliveryId} attempt ${attempt}: ${error}`);
  }

  /** Retries exhausted by errors other than the receiver's answer (e.g. the database): the delivery is listed as failed. */
  protected override async onFinalFailure(job: Job<{ deliveryId: string }>, error: Error): Promise<void> {
    const [row] = await this.ds.query('SELECT attempts, last_error FROM webhook_deliveries WHERE id = $1', [
      job.data.deliveryId,
    ]);
    await this.markFailed(job.data.deliveryId, row?.last_error ?? error.message);
    this.metrics.recordWebhookDelivery('failed', row?.attempts ?? job.attemptsMade);
  }

  private async nextAttempt(deliveryId: string): Promise<number> {
    const [[row]] = await this.ds.query(
      'UPDATE webhook_deliveries SET attempts = attempts + 1, updated_at = now() WHERE id = $1 RETURNING attempts',
      [deliveryId],
    );
    return row.attempts;
  }

  private async recordAttempt(
    deliveryId: string,
    attempt: number,
    r: { statusCode: number | null; error: string | null; durationMs: number },
  ): Promise<void> {
    await this.ds.query(
      `INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [deliveryId, attempt, r.statusCode, r.error, r.durationMs],
    );
  }

  private async markFailed(deliveryId: string, reason: string): Promise<void> {
    await this.ds.query(
      `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
      [deliveryId, reason],
    );
  }
}
