import { Inject, Injectable } from '@nestjs/common';
import { findInstance, findPrediction, recordStudyProgress, saveExplanation, transitionInstance } from '@xray/db';
import {
  CONFIG,
  DATA_SOURCE,
  LOGGER,
  OBJECT_STORE,
  ProgressHeartbeat,
  ModelQueueWorker,
  REDIS,
  STATUS_PUBLISHER,
  WEBHOOK_QUEUE,
  XrayMetrics,
  infraReadiness,
  type AppConfig,
  type Logger,
  type StatusPublisher,
  type StageTimer,
  type TypedQueue,
} from '@xray/platform';
import type { ExplainJob, InstanceStatus, JobOutcome } from '@xray/shared';
import {
  LAYER_MAPS_CONTENT_TYPE,
  ObjectNotFoundError,
  clientKey,
  layerMapsKey,
  renderingKey,
  type ObjectStore,
} from '@xray/storage';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ModelHost } from '../model/model-host';

/**
 * The `explain` queue: Grad-CAM++ of a stored prediction with the same model weights and
 * preprocessing, heatmap and overlay PNGs to object storage, then study progress/webhooks.
 */
@Injectable()
export class ExplainProcessor extends ModelQueueWorker<'explain'> {
  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(REDIS) redis: Redis,
    @Inject(WEBHOOK_QUEUE) private readonly webhookQueue: TypedQueue<'webhook'>,
    @Inject(STATUS_PUBLISHER) private readonly status: StatusPublisher,
    private readonly model: ModelHost,
    private readonly metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super('explain', {
      config,
      logger,
      concurrency: config.explain.concurrency,
      readiness: infraReadiness(redis, ds, store),
      model,
      metrics,
      heartbeat,
    });
  }

  protected async handleTimed(job: Job<ExplainJob>, stages: StageTimer): Promise<JobOutcome> {
    const { instanceId, studyId, clientId, predictionId, correlationId } = job.data;
    const [instance, prediction] = await stages.time(
      'db',
      Promise.all([findInstance(this.ds, instanceId), findPrediction(this.ds, predictionId)]),
    );
    if (!instance || !prediction) return 'skipped'; // deleted meanwhile
    if (instance.status === 'done') {
      // A re-run after a crash between saving and recording progress: record it (idempotent).
      await this.recordProgress(studyId, correlationId);
      return 'skipped';
    }
    if (await stages.time('db', transitionInstance(this.ds, instanceId, ['classified'], 'explaining')))
      this.publish(job.data, 'explaining');

    const image = await stages.time('storageGet', this.sourceImage(job.data, instance.objectKey));
    const result = await stages.time(
      'explain',
      this.model.explain({ image, classIndex: prediction.classIndex, modelSha256: prediction.modelSha256 }),
    );
    if (!result.ok) {
      // Another worker may still hold the prediction's model (rolling upgrade): retry until attempts run out.
      if (result.retry) throw new Error(`${result.code}: ${result.message}`);
      await stages.time(
        'db',
        saveExplanation(this.ds, {
          predictionId,
          instanceId,
          status: 'failed',
          errorCode: result.code,
          errorMessage: result.message,
        }),
      );
    } else {
      for (const [stage, ms] of Object.entries(result.stages)) stages.add(stage, ms);
      stages.add('model', result.modelMs);
      this.metrics.observeModelTime(result.modelMs, 1, 'explain');
      this.options.logger.debug({ modelMs: result.modelMs, size: 1 }, 'model batch'); // bench/pipeline sums these
      const heatmapKey = clientKey(clientId, 'studies', studyId, instanceId, `heatmap-${predictionId}.png`);
      const overlayKey = clientKey(clientId, 'studies', studyId, instanceId, `overlay-${predictionId}.png`);
      await stages.time(
        'storagePut',
        Promise.all([
          this.store.put(heatmapKey, Buffer.from(result.heatmapPng), 'image/png'),
          this.store.put(overlayKey, Buffer.from(result.overlayPng), 'image/png'),
          // The maps across depth (GET /v1/instances/:id/explanations, /animation, /heatmap?layer=).
          this.store.put(
            layerMapsKey(clientId, studyId, instanceId, predictionId),
            Buffer.from(result.layerMaps),
            LAYER_MAPS_CONTENT_TYPE,
          ),
        ]),
      );
      await stages.time(
        'db',
        saveExplanation(this.ds, {
          predictionId,
          instanceId,
          status: 'done',
          layer: result.layer,
          heatmapKey,
          overlayKey,
        }),
      );
    }
    this.publish(job.data, 'done');
    await stages.time('db', this.recordProgress(studyId, correlationId));
    return result.ok ? 'success' : 'failed';
  }

  /**
   * The 8-bit rendering the inference worker stored with the prediction: the same pixels the
   * prediction was computed from (so the same preprocessing), without decoding the upload (a
   * DICOM may be tens of MB and JPEG 2000) again. The upload itself when there is no rendering.
   */
  private async sourceImage(job: ExplainJob, objectKey: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await this.store.getBuffer(renderingKey(job.clientId, job.studyId, job.instanceId)));
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      return new Uint8Array(await this.store.getBuffer(objectKey));
    }
  }

  /** Retries exhausted: the explanation fails visibly; the prediction stands. */
  protected override async onFinalFailure(job: Job<ExplainJob>, error: Error): Promise<void> {
    const { predictionId, instanceId } = job.data;
    if (!(await findPrediction(this.ds, predictionId))) return;
    await saveExplanation(this.ds, {
      predictionId,
      instanceId,
      status: 'failed',
      errorCode: 'INTERNAL',
      errorMessage: `Explanation failed after ${job.attemptsMade} attempts: ${error.message}`,
    });
    this.publish(job.data, 'done');
    await this.recordProgress(job.data.studyId, job.data.correlationId);
  }

  private async recordProgress(studyId: string, correlationId: string): Promise<void> {
    const { pendingDeliveryIds } = await recordStudyProgress(this.ds, studyId, this.options.config.publicUrl);
    for (const deliveryId of pendingDeliveryIds)
      await this.webhookQueue.add('deliver', { deliveryId, correlationId }, { jobId: deliveryId });
  }

  private publish(job: ExplainJob, status: InstanceStatus): void {
    this.status.publish({ clientId: job.clientId, studyId: job.studyId, instanceId: job.instanceId, status });
  }
}
