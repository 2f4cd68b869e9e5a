import { Inject, Injectable } from '@nestjs/common';
import {
  findDeliveryProgress,
  findDeliveryToSend,
  markDeliveryDelivered,
  markDeliveryFailed,
  nextDeliveryAttempt,
  noteDeliveryError,
  recordDeliveryAttempt,
} from '@xray/db';
import { XrayMetrics, type AppConfig } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { CONFIG, DATA_SOURCE } from '../nest/tokens';
import { webhookEventView } from '../views/study-view';
import { assertAllowedTarget } from './callback-url';
import type { WebhookJob } from './webhook.job';
import { postWebhook } from './webhook-sender';

/**
 * Sends one webhook delivery. Non-2xx answers and timeouts throw (BullMQ retries with
 * exponential backoff); the event id and body stay the same on every attempt.
 */
@Injectable()
export class WebhookHandler {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly metrics: XrayMetrics,
  ) {}

  async handle(job: Job<WebhookJob>): Promise<JobOutcome> {
    const { deliveryId } = job.data;
    const delivery = await findDeliveryToSend(this.ds, deliveryId);
    if (!delivery || delivery.status === 'delivered') return 'skipped';
    const { webhooks } = this.config;
    const attempt = await nextDeliveryAttempt(this.ds, deliveryId);
    try {
      await assertAllowedTarget(delivery.url, webhooks.allowPrivate);
    } catch (error) {
      // A target that is not allowed will not become allowed by retrying.
      await recordDeliveryAttempt(this.ds, deliveryId, attempt, {
        statusCode: null,
        error: (error as Error).message,
        durationMs: 0,
      });
      await markDeliveryFailed(this.ds, deliveryId, (error as Error).message);
      this.metrics.recordWebhookDelivery('failed', attempt);
      return 'failed';
    }
    const event = webhookEventView(delivery.event, this.config.publicUrl);
    const result = await postWebhook(delivery.url, event, delivery.webhookSecret, webhooks.timeoutMs);
    await recordDeliveryAttempt(this.ds, deliveryId, attempt, result);
    if (result.ok) {
      await markDeliveryDelivered(this.ds, deliveryId);
      this.metrics.recordWebhookDelivery('delivered', attempt);
      return 'success';
    }
    const error = result.error ?? 'delivery failed';
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
      // The last attempt: the delivery fails now, counted once as failed (not also as retrying).
      await markDeliveryFailed(this.ds, deliveryId, error);
      this.metrics.recordWebhookDelivery('failed', attempt);
      return 'failed';
    }
    await noteDeliveryError(this.ds, deliveryId, error);
    this.metrics.recordWebhookDelivery('retrying', attempt);
    throw new Error(`webhook delivery ${deliveryId} attempt ${attempt}: ${error}`);
  }

  /** Retries exhausted by errors other than the receiver's answer (e.g. the database): the delivery is listed as failed. */
  async onFinalFailure(job: Job<WebhookJob>, error: Error): Promise<void> {
    const progress = await findDeliveryProgress(this.ds, job.data.deliveryId);
    await markDeliveryFailed(this.ds, job.data.deliveryId, progress?.lastError ?? error.message);
    this.metrics.recordWebhookDelivery('failed', progress?.attempts ?? job.attemptsMade);
  }
}
