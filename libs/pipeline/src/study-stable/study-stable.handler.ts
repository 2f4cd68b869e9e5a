import { Inject, Injectable } from '@nestjs/common';
import { completeStableStudy } from '@xray/db';
import type { AppConfig, Logger } from '@xray/platform';
import type { JobOutcome } from '@xray/shared';
import { DelayedError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { CONFIG, DATA_SOURCE, LOGGER } from '../nest/tokens';
import { StudyProgressService } from '../progress/study-progress.service';
import type { StudyStableJob } from './study-stable.job';

/**
 * The study-stable rule (docs/dicom.md): a DICOM study is complete once no instance arrived for
 * DICOM_STUDY_STABLE_SECONDS and every instance is done; then its study.completed is recorded and
 * sent, and its DICOM results exported. Until then the check puts itself back on the queue (same job id).
 */
@Injectable()
export class StudyStableHandler {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly progress: StudyProgressService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get quietMs(): number {
    return this.config.dicom.studyStableSeconds * 1000;
  }

  async handle(job: Job<StudyStableJob>): Promise<JobOutcome> {
    const { studyId, correlationId } = job.data;
    const check = await completeStableStudy(this.ds, studyId, this.quietMs);
    switch (check.state) {
      case 'settled':
        return 'skipped';
      case 'waiting':
        return this.checkAgain(job, check.retryInMs);
      case 'processing':
        // Instances still in inference or explain: look again after another quiet period.
        return this.checkAgain(job, this.quietMs);
      case 'completed':
        await this.progress.completed(studyId, correlationId, check.pendingDeliveryIds);
        this.logger.info({ studyId }, 'study stable: completed');
        return 'success';
    }
  }

  /** BullMQ's way for a job to reschedule itself: moved back to delayed under the same id, no attempt spent. */
  private async checkAgain(job: Job<StudyStableJob>, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + Math.max(delayMs, 100), job.token);
    throw new DelayedError();
  }
}
