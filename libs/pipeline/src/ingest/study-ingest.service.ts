import { Inject, Injectable } from '@nestjs/common';
import { insertInstances, insertStudy, type NewInstance, type NewStudy } from '@xray/db';
import { withDeadline, type AppConfig, type Logger } from '@xray/platform';
import type { DataSource } from 'typeorm';
import { enqueueInference } from '../inference/inference.job';
import { CONFIG, DATA_SOURCE, INFERENCE_QUEUE, LOGGER } from '../nest/tokens';
import type { TypedQueue } from '../queues';

export type { NewInstance, NewStudy } from '@xray/db';

/**
 * Registers studies whose files are already in object storage (HTTP upload today; the DICOM
 * listener and STOW-RS next): the rows, then one inference job per instance. Once the rows are
 * committed a Redis failure is not the caller's: QueueSweeper enqueues what was left queued.
 * The enqueue is bounded by QUEUE_ENQUEUE_TIMEOUT_MS so that a Redis outage does not hold the
 * caller's answer (an upload answers 202; a client that timed out would retry and duplicate).
 */
@Injectable()
export class StudyIngestService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(INFERENCE_QUEUE) private readonly inference: TypedQueue<'inference'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A new study and its instances, in one transaction, then queued. Rejects with Postgres'
   * unique violation (code 23505) when the client already has a study with this idempotency key.
   */
  async registerStudy(study: NewStudy, instances: NewInstance[]): Promise<void> {
    await insertStudy(this.ds, study, instances);
    await this.enqueueInstances(study, instances);
    this.logger.info({ studyId: study.id, instances: instances.length, priority: study.priority }, 'study accepted');
  }

  /** More instances of a registered study (e.g. a DICOM association that sends a study in parts), then queued. */
  async addInstances(
    study: Pick<NewStudy, 'id' | 'clientId' | 'priority' | 'correlationId'>,
    instances: NewInstance[],
  ): Promise<void> {
    await insertInstances(this.ds, study, instances);
    await this.enqueueInstances(study, instances);
  }

  /** One inference job per recorded instance (also the DICOM ingest's enqueue). */
  async enqueueInstances(
    study: Pick<NewStudy, 'id' | 'clientId' | 'priority' | 'correlationId'>,
    instances: Array<Pick<NewInstance, 'id' | 'objectKey'>>,
  ): Promise<void> {
    const jobs = instances.map((i) => ({
      job: {
        instanceId: i.id,
        studyId: study.id,
        clientId: study.clientId,
        objectKey: i.objectKey,
        correlationId: study.correlationId,
      },
      priority: study.priority,
    }));
    const enqueued = enqueueInference(this.inference, jobs);
    await withDeadline(enqueued, this.config.queueSweep.enqueueTimeoutMs, 'enqueue').catch((error: Error) =>
      this.logger.warn({ err: error.message, studyId: study.id }, 'enqueue failed; the queue sweeper will retry'),
    );
  }
}
