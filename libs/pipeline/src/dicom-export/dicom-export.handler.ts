import { Inject, Injectable } from '@nestjs/common';
import {
  countDicomDeliveryAttempt,
  findDestination,
  findStudyOwner,
  markDicomDeliveriesFailed,
  markDicomDeliveryDelivered,
  noteDicomDeliveryError,
  pendingDicomDeliveries,
  type DicomDestination,
} from '@xray/db';
import { cStore, stowRs, type DeliveryResult, type OutgoingObject } from '@xray/dicom';
import { XrayMetrics, type AppConfig } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import type { ObjectStore } from '@xray/storage';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { CONFIG, DATA_SOURCE, OBJECT_STORE } from '../nest/tokens';
import type { DicomExportJob } from './dicom-export.job';
import { StudyObjectsBuilder } from './study-objects.builder';

/**
 * Exports a completed study's objects to one destination: builds them once (cached in storage),
 * sends those still pending in one association / request, and records each object's outcome.
 * Objects worth retrying make the job throw (BullMQ retries with backoff); on the last attempt
 * they fail for good (the API can retry them).
 */
@Injectable()
export class DicomExportHandler {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly builder: StudyObjectsBuilder,
    private readonly metrics: XrayMetrics,
  ) {}

  async handle(job: Job<DicomExportJob>): Promise<JobOutcome> {
    const { studyId, destinationId } = job.data;
    const [owner, destination, pending] = await Promise.all([
      findStudyOwner(this.ds, studyId),
      findDestination(this.ds, destinationId),
      pendingDicomDeliveries(this.ds, studyId, destinationId),
    ]);
    if (!owner || !destination || pending.length === 0) return 'skipped';
    if (destination.removedAt) {
      await markDicomDeliveriesFailed(
        this.ds,
        pending.map((d) => d.id),
        'the destination was removed',
      );
      return 'failed';
    }
    const built = await this.builder.ensureBuilt(owner.clientId, studyId);
    const keyOf = new Map(built.map((o) => [o.id, o.objectKey!]));
    const objects: OutgoingObject[] = await Promise.all(
      pending.map(async (d) => ({
        sopInstanceUid: d.sopInstanceUid,
        bytes: await this.store.getBuffer(keyOf.get(d.objectId)!),
      })),
    );
    await countDicomDeliveryAttempt(
      this.ds,
      pending.map((d) => d.id),
    );
    const results = await this.send(destination, objects);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const retrying: string[] = [];
    for (const delivery of pending) {
      const result = results.find((r) => r.sopInstanceUid === delivery.sopInstanceUid) ?? {
        sopInstanceUid: delivery.sopInstanceUid,
        status: 'retryable',
        reason: 'no answer for this object',
      };
      const outcome =
        result.status === 'stored'
          ? 'delivered'
          : result.status === 'retryable' && !lastAttempt
            ? 'retrying'
            : 'failed';
      this.metrics.recordDicomExport(delivery.kind, outcome, destination.transport);
      if (outcome === 'delivered') await markDicomDeliveryDelivered(this.ds, delivery.id, result.reason);
      else if (outcome === 'failed')
        await markDicomDeliveriesFailed(this.ds, [delivery.id], result.reason ?? 'refused');
      else {
        await noteDicomDeliveryError(this.ds, delivery.id, result.reason ?? 'not stored yet');
        retrying.push(`${delivery.sopInstanceUid}: ${result.reason}`);
      }
    }
    if (retrying.length > 0)
      throw new Error(
        `dicom export of study ${studyId} to ${destinationId}: ${retrying.length} to retry (${retrying[0]})`,
      );
    return results.every((r) => r.status === 'stored') ? 'success' : 'failed';
  }

  /** Retries exhausted by errors before sending (storage, database, building): the pending deliveries fail. */
  async onFinalFailure(job: Job<DicomExportJob>, error: Error): Promise<void> {
    const pending = await pendingDicomDeliveries(this.ds, job.data.studyId, job.data.destinationId);
    await markDicomDeliveriesFailed(
      this.ds,
      pending.map((d) => d.id),
      error.message,
    );
  }

  private send(destination: DicomDestination, objects: OutgoingObject[]): Promise<DeliveryResult[]> {
    const { timeoutMs } = this.config.dicom.export;
    return destination.transport === 'dimse'
      ? cStore(destination, objects, { callingAeTitle: this.config.dicom.aeTitle, timeoutMs })
      : stowRs(destination, objects, { timeoutMs });
  }
}
