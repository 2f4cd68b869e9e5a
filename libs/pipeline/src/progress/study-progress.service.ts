import { Inject, Injectable } from '@nestjs/common';
import { recordStudyProgress } from '@xray/db';
import type { StatusPublisher } from '@xray/platform';
import type { InstanceStatus } from '@xray/shared';
import type { DataSource } from 'typeorm';
import { recordStudyExports } from '../dicom-export/study-exports';
import { DATA_SOURCE, DICOM_EXPORT_QUEUE, STATUS_PUBLISHER, STUDY_STABLE_QUEUE, WEBHOOK_QUEUE } from '../nest/tokens';
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
 * DICOM study that is done, its study-stable check); once the study is complete, record its DICOM
 * objects and queue their export.
 */
@Injectable()
export class StudyProgressService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(WEBHOOK_QUEUE) private readonly webhooks: TypedQueue<'webhook'>,
    @Inject(STATUS_PUBLISHER) private readonly status: StatusPublisher,
    @Inject(STUDY_STABLE_QUEUE) private readonly studyStable: TypedQueue<'study-stable'>,
    @Inject(DICOM_EXPORT_QUEUE) private readonly dicomExports: TypedQueue<'dicom-export'>,
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
    const { status, pendingDeliveryIds, awaitsStable } = await recordStudyProgress(this.ds, studyId);
    // A DICOM study whose instances are all done: the study-stable check decides (it waits out the quiet time).
    if (awaitsStable) {
      await this.queueDeliveries(pendingDeliveryIds, correlationId);
      await enqueueStudyStable(this.studyStable, { studyId, correlationId }, 0);
    } else if (status === 'done') await this.completed(studyId, correlationId, pendingDeliveryIds);
    else await this.queueDeliveries(pendingDeliveryIds, correlationId);
  }

  /**
   * After a study's study.completed was recorded: its deliveries, then its DICOM export. Export is
   * only queued here (building and sending happen in the export job), so the webhook never waits on it.
   */
  async completed(studyId: string, correlationId: string, pendingDeliveryIds: string[]): Promise<void> {
    await this.queueDeliveries(pendingDeliveryIds, correlationId);
    await recordStudyExports(this.ds, this.dicomExports, studyId, correlationId);
  }

  private async queueDeliveries(deliveryIds: string[], correlationId: string): Promise<void> {
    for (const deliveryId of deliveryIds) await enqueueWebhookDelivery(this.webhooks, { deliveryId, correlationId });
  }
}
