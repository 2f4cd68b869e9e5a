import { Inject, Injectable } from '@nestjs/common';
import {
  failInstance,
  findInstance,
  latestPredictionId,
  recordStudyProgress,
  savePrediction,
  transitionInstance,
} from '@xray/db';
import {
  CONFIG,
  DATA_SOURCE,
  EXPLAIN_QUEUE,
  LOGGER,
  OBJECT_STORE,
  ProgressHeartbeat,
  ModelQueueWorker,
  REDIS,
  STATUS_PUBLISHER,
  WEBHOOK_QUEUE,
  XrayMetrics,
  ByteBudget,
  infraReadiness,
  type AppConfig,
  type Logger,
  type StatusPublisher,
  type StageTimer,
  type TypedQueue,
} from '@xray/platform';
import type { InferenceJob, InstanceStatus, JobOutcome } from '@xray/shared';
import { renderingKey, type ObjectStore } from '@xray/storage';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ModelHost } from '../model/model-host';

const ALREADY_CLASSIFIED: InstanceStatus[] = ['classified', 'explaining', 'done'];

/**
 * The `inference` queue: decode + classify (batched, in the model thread), store the
 * prediction and the rendering, queue the explanation, record study progress and webhooks.
 * Every step is idempotent, so a job that runs twice (crash, stall) changes nothing more.
 */
@Injectable()
export class InferenceProcessor extends ModelQueueWorker<'inference'> {
  /** Decoding multiplies a file's bytes: bound the bytes being decoded, not only the job count. */
  private readonly decodeBudget: ByteBudget;

  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(REDIS) redis: Redis,
    @Inject(EXPLAIN_QUEUE) private readonly explainQueue: TypedQueue<'explain'>,
    @Inject(WEBHOOK_QUEUE) private readonly webhookQueue: TypedQueue<'webhook'>,
    @Inject(STATUS_PUBLISHER) private readonly status: StatusPublisher,
    private readonly model: ModelHost,
    metrics: XrayMetrics,
    heartbeat: ProgressHeartbeat,
  ) {
    super('inference', {
      config,
      logger,
      concurrency: config.inference.concurrency,
      readiness: infraReadiness(redis, ds, store),
      model,
      metrics,
      heartbeat,
    });
    this.decodeBudget = new ByteBudget(config.inference.decodeBudgetBytes);
    model.onBatch = (modelMs, size) => {
      metrics.observeModelTime(modelMs, size, 'classify');
      logger.debug({ modelMs, size }, 'model batch'); // bench/pipeline sums these
    };
  }

  protected async handleTimed(job: Job<InferenceJob>, stages: StageTimer): Promise<JobOutcome> {
    const { instanceId, studyId, clientId, objectKey, correlationId } = job.data;
    const { logger } = this.options;
    // The usual case in one round trip: a queued instance, claimed. Anything else is read and looked at.
    if (await stages.time('db', transitionInstance(this.ds, instanceId, ['queued'], 'classifying')))
      this.publish(job.data, 'classifying');
    else {
      const instance = await stages.time('db', findInstance(this.ds, instanceId));
      if (!instance) return 'skipped'; // the study was deleted meanwhile
      if (ALREADY_CLASSIFIED.includes(instance.status)) {
        // A re-run after a crash between saving and enqueueing: make sure the explanation and webhooks are queued.
        const predictionId = await latestPredictionId(this.ds, instanceId);
        if (predictionId) await this.enqueueExplain(job, predictionId);
        await this.recordProgress(studyId, correlationId);
        return 'skipped';
      }
      if (instance.status === 'failed') {
        await this.recordProgress(studyId, correlationId);
        return 'skipped';
      }
      // 'classifying': a re-run after a crash or stall mid-classification goes on.
    }

    const bytes = await stages.time('storageGet', this.store.getBuffer(objectKey));
    const outcome = await stages.time(
      'classify',
      this.decodeBudget.run(bytes.length, () =>
        this.model.classify(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      ),
    );
    if (!outcome.ok) {
      logger.info({ instanceId, code: outcome.code }, 'image could not be decoded');
      if (await failInstance(this.ds, instanceId, outcome.code, outcome.message)) this.publish(job.data, 'failed');
      await this.recordProgress(studyId, correlationId);
      return 'failed';
    }
    stages.add('decode', outcome.decodeMs);
    stages.add('modelInput', outcome.inputMs);
    stages.add('renderPng', outcome.renderMs);
    // Stored before the prediction: a saved prediction always has its rendering (the explain worker reads it).
    await stages.time(
      'storagePut',
      this.store.put(renderingKey(clientId, studyId, instanceId), Buffer.from(outcome.renderingPng), 'image/png'),
    );
    const model = this.model.model;
    const predictionId = await stages.time(
      'db',
      savePrediction(this.ds, {
        instanceId,
        model: { name: model.name, version: model.version, sha256: model.sha256 },
        label: outcome.label,
        classIndex: outcome.classIndex,
        confidence: outcome.confidence,
        band: outcome.band,
        top5: outcome.top5,
        probabilities: outcome.probabilities,
        preprocessing: model.preprocessing,
        dicom: outcome.dicom,
      }),
    );
    this.publish(job.data, 'classified');
    await stages.time('queueWrites', this.enqueueExplain(job, predictionId));
    await stages.time('db', this.recordProgress(studyId, correlationId));
    logger.info({ instanceId, label: outcome.label, confidence: outcome.confidence }, 'classified');
    return 'success';
  }

  /** Retries exhausted (storage or database trouble): the instance fails visibly instead of hanging. */
  protected override async onFinalFailure(job: Job<InferenceJob>, error: Error): Promise<void> {
    if (
      await failInstance(
        this.ds,
        job.data.instanceId,
        'INTERNAL',
        `Classification failed after ${job.attemptsMade} attempts: ${error.message}`,
      )
    )
      this.publish(job.data, 'failed');
    await this.recordProgress(job.data.studyId, job.data.correlationId);
  }

  private async enqueueExplain(job: Job<InferenceJob>, predictionId: string): Promise<void> {
    const { instanceId, studyId, clientId, objectKey, correlationId } = job.data;
    // The prediction id as job id: re-enqueueing never makes a second explanation job.
    await this.explainQueue.add(
      'explain',
      { instanceId, studyId, clientId, objectKey, predictionId, correlationId },
      { jobId: predictionId, priority: job.opts.priority },
    );
  }

  private async recordProgress(studyId: string, correlationId: string): Promise<void> {
    const { pendingDeliveryIds } = await recordStudyProgress(this.ds, studyId, this.options.config.publicUrl);
    for (const deliveryId of pendingDeliveryIds)
      await this.webhookQueue.add('deliver', { deliveryId, correlationId }, { jobId: deliveryId });
  }

  private publish(job: InferenceJob, status: InstanceStatus): void {
    this.status.publish({ clientId: job.clientId, studyId: job.studyId, instanceId: job.instanceId, status });
  }
}
