import { Inject, Injectable } from '@nestjs/common';
import { recordStudyProgress } from '@xray/db';
import type { StatusPublisher } from '@xray/platform';
import type { InstanceStatus } from '@xray/shared';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, STATUS_PUBLISHER, STUDY_STABLE_QUEUE, WEBHOOK_QUEUE } from '../nest/tokens';
import type { TypedQueue } from '../queues';
import { enqueueStudyStable } from '../study-stable/study-stable.job';
import { enqueueWebhookDelivery } from '../webhook/webhook.job';

/** The instance a status change is about. */
export interface InstanceRef {
  clientId: string;
  studyId: string;
  instanceId: string;
}

/**
 * What every job does after it changed an instance: publish the live status, roll the
 * study's status up, record the webhook events it reached and queue their deliveries (or, for a
 * DICOM study that is done, its study-stable check).
 */
@Injectable()
export class StudyProgressService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(WEBHOOK_QUEUE) private readonly webhooks: TypedQueue<'webhook'>,
    @Inject(STATUS_PUBLISHER) private readonly status: StatusPublisher,
    @Inject(STUDY_STABLE_QUEUE) private readonly studyStable: TypedQueue<'study-stable'>,
  ) {}

  /** Live status for viewers (best effort: the database stays the truth). */
  publish(instance: InstanceRef, status: InstanceStatus): void {
    this.status.publish({
      clientId: instance.clientId,
      studyId: instance.studyId,
      instanceId: instance.instanceId,
      status,
    });
  }

  /** Idempotent: pending deliveries are queued again under their own id, which BullMQ ignores when the job exists. */
  async record(studyId: string, correlationId: string): Promise<void> {
    const { pendingDeliveryIds, awaitsStable } = await recordStudyProgress(this.ds, studyId);
    for (const deliveryId of pendingDeliveryIds)
      await enqueueWebhookDelivery(this.webhooks, { deliveryId, correlationId });
    // A DICOM study whose instances are all done: the study-stable check decides (it waits out the quiet time).
    if (awaitsStable) await enqueueStudyStable(this.studyStable, { studyId, correlationId }, 0);
  }
}
