import { Inject, Injectable } from '@nestjs/common';
import { failInstance, findInstance, latestPredictionId, savePrediction, transitionInstance } from '@xray/db';
import { ByteBudget, type AppConfig, type Logger, type StageTimer } from '@xray/platform';
import { OUT_OF_DISTRIBUTION_WARNING, type InstanceStatus, type JobOutcome } from '@xray/shared';
import { renderingKey, type ObjectStore } from '@xray/storage';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { enqueueExplain } from '../explain/explain.job';
import { CONFIG, DATA_SOURCE, EXPLAIN_QUEUE, LOGGER, MODEL_HOST, OBJECT_STORE } from '../nest/tokens';
import { StudyProgressService } from '../progress/study-progress.service';
import type { TypedQueue } from '../queues';
import type { Classifier } from './classifier';
import type { InferenceJob } from './inference.job';

const ALREADY_CLASSIFIED: InstanceStatus[] = ['classified', 'explaining', 'done'];

/**
 * An inference job: decode + classify (batched, in the model thread), store the prediction
 * and the rendering, queue the explanation, record study progress and webhooks. Every step
 * is idempotent, so a job that runs twice (crash, stall) changes nothing more.
 */
@Injectable()
export class InferenceHandler {
  /** Decoding multiplies a file's bytes: bound the bytes being decoded, not only the job count. */
  private readonly decodeBudget: ByteBudget;

  constructor(
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(EXPLAIN_QUEUE) private readonly explainQueue: TypedQueue<'explain'>,
    @Inject(MODEL_HOST) private readonly model: Classifier,
    private readonly progress: StudyProgressService,
  ) {
    this.decodeBudget = new ByteBudget(config.inference.decodeBudgetBytes);
  }

  async handle(job: Job<InferenceJob>, stages: StageTimer): Promise<JobOutcome> {
    const { instanceId, studyId, clientId, objectKey, correlationId } = job.data;
    // The usual case in one round trip: a queued instance, claimed. Anything else is read and looked at.
    if (await stages.time('db', transitionInstance(this.ds, instanceId, ['queued'], 'classifying')))
      this.progress.publish(job.data, 'classifying');
    else {
      const instance = await stages.time('db', findInstance(this.ds, instanceId));
      if (!instance) return 'skipped'; // the study was deleted meanwhile
      if (ALREADY_CLASSIFIED.includes(instance.status)) {
        // A re-run after a crash between saving and enqueueing: make sure the explanation and webhooks are queued.
        const predictionId = await latestPredictionId(this.ds, instanceId);
        if (predictionId) await this.enqueueExplain(job, predictionId);
        await this.progress.record(studyId, correlationId);
        return 'skipped';
      }
      if (instance.status === 'failed') {
        await this.progress.record(studyId, correlationId);
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
      this.logger.info({ instanceId, code: outcome.code }, 'image could not be decoded');
      if (await failInstance(this.ds, instanceId, outcome.code, outcome.message))
        this.progress.publish(job.data, 'failed');
      await this.progress.record(studyId, correlationId);
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
        warnings: outcome.ood?.outOfDistribution ? [OUT_OF_DISTRIBUTION_WARNING] : [],
        oodScore: outcome.ood?.score ?? null,
      }),
    );
    this.progress.publish(job.data, 'classified');
    await stages.time('queueWrites', this.enqueueExplain(job, predictionId));
    await stages.time('db', this.progress.record(studyId, correlationId));
    this.logger.info({ instanceId, label: outcome.label, confidence: outcome.confidence }, 'classified');
    return 'success';
  }

  /** Retries exhausted (storage or database trouble): the instance fails visibly instead of hanging. */
  async onFinalFailure(job: Job<InferenceJob>, error: Error): Promise<void> {
    const { instanceId, studyId, correlationId } = job.data;
    const message = `Classification failed after ${job.attemptsMade} attempts: ${error.message}`;
    if (await failInstance(this.ds, instanceId, 'INTERNAL', message)) this.progress.publish(job.data, 'failed');
    await this.progress.record(studyId, correlationId);
  }

  private async enqueueExplain(job: Job<InferenceJob>, predictionId: string): Promise<void> {
    const { instanceId, studyId, clientId, objectKey, correlationId } = job.data;
    await enqueueExplain(
      this.explainQueue,
      { instanceId, studyId, clientId, objectKey, predictionId, correlationId },
      job.opts.priority,
    );
  }
}
