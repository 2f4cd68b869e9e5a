import { createQueue, type AppConfig } from '@xray/platform';
import { QUEUES } from '@xray/shared';
import type { TypedQueue } from '../queues';

/** Check whether a DICOM study is complete under the study-stable rule (the `study-stable` queue). */
export interface StudyStableJob {
  studyId: string;
  correlationId: string;
}

/**
 * The study-stable queue. Its jobs are removed once done, so the study's job id is free for the
 * next check (after a late instance reopens the study); a thrown error retries like any job.
 */
export function createStudyStableQueue(config: AppConfig): TypedQueue<'study-stable'> {
  return createQueue<StudyStableJob>(QUEUES.studyStable, config, { removeOnComplete: true, removeOnFail: true });
}

/**
 * Schedules the study's stable check `delayMs` from now. One job per study (job id
 * `stable-<studyId>`; BullMQ refuses ':' in custom ids): a waiting check is pushed back to the new
 * time, so a study still receiving instances is checked once, when it has been quiet for the delay.
 * A check already running re-reads the study and reschedules itself if it is not quiet.
 */
export async function enqueueStudyStable(
  queue: TypedQueue<'study-stable'>,
  job: StudyStableJob,
  delayMs: number,
): Promise<void> {
  const jobId = `stable-${job.studyId}`;
  const existing = await queue.getJob(jobId);
  if (existing && (await existing.isDelayed())) {
    await existing.changeDelay(delayMs).catch(() => undefined); // it may have just started: the check re-reads the study
    return;
  }
  await queue.add('check', job, { jobId, delay: delayMs });
}
