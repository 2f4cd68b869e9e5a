import { Inject, Injectable } from '@nestjs/common';
import { findInstance, findPrediction, saveExplanation, transitionInstance } from '@xray/db';
import { XrayMetrics, type StageTimer } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import {
  LAYER_MAPS_CONTENT_TYPE,
  ObjectNotFoundError,
  clientKey,
  layerMapsKey,
  renderingKey,
  type ObjectStore,
} from '@xray/storage';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, MODEL_HOST, OBJECT_STORE } from '../nest/tokens';
import { StudyProgressService } from '../progress/study-progress.service';
import type { ExplainJob } from './explain.job';
import type { Explainer } from './explainer';

/**
 * An explain job: Grad-CAM++ of a stored prediction with the same model weights and
 * preprocessing, heatmap and overlay PNGs and the maps across depth to object storage, then
 * study progress/webhooks.
 */
@Injectable()
export class ExplainHandler {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(MODEL_HOST) private readonly model: Explainer,
    private readonly metrics: XrayMetrics,
    private readonly progress: StudyProgressService,
  ) {}

  async handle(job: Job<ExplainJob>, stages: StageTimer): Promise<JobOutcome> {
    const { instanceId, studyId, clientId, predictionId, correlationId } = job.data;
    const [instance, prediction] = await stages.time(
      'db',
      Promise.all([findInstance(this.ds, instanceId), findPrediction(this.ds, predictionId)]),
    );
    if (!instance || !prediction) return 'skipped'; // deleted meanwhile
    if (instance.status === 'done') {
      // A re-run after a crash between saving and recording progress: record it (idempotent).
      await this.progress.record(studyId, correlationId);
      return 'skipped';
    }
    if (await stages.time('db', transitionInstance(this.ds, instanceId, ['classified'], 'explaining')))
      this.progress.publish(job.data, 'explaining');

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
    this.progress.publish(job.data, 'done');
    await stages.time('db', this.progress.record(studyId, correlationId));
    return result.ok ? 'success' : 'failed';
  }

  /** Retries exhausted: the explanation fails visibly; the prediction stands. */
  async onFinalFailure(job: Job<ExplainJob>, error: Error): Promise<void> {
    const { predictionId, instanceId, studyId, correlationId } = job.data;
    if (!(await findPrediction(this.ds, predictionId))) return;
    await saveExplanation(this.ds, {
      predictionId,
      instanceId,
      status: 'failed',
      errorCode: 'INTERNAL',
      errorMessage: `Explanation failed after ${job.attemptsMade} attempts: ${error.message}`,
    });
    this.progress.publish(job.data, 'done');
    await this.progress.record(studyId, correlationId);
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
}
