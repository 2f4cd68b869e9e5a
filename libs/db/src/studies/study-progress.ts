import { randomUUID } from 'node:crypto';
import type { InstanceStatus, StudyStatus, WebhookEventType } from '@xray/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { recordEventDelivery } from '../webhooks/webhook-deliveries.repository';
import { loadStudyRecords } from './study-records';

const CLASSIFYING_DONE: InstanceStatus[] = ['classified', 'explaining', 'done', 'failed'];
const TERMINAL: InstanceStatus[] = ['done', 'failed'];

interface RecordedEvent {
  type: WebhookEventType;
  deliveryId: string | null;
  deliveryStatus: string | null;
}

/** A study's status from its instances' statuses. */
export function rollUpStatus(statuses: InstanceStatus[]): StudyStatus {
  if (statuses.length === 0 || statuses.every((s) => s === 'queued')) return 'queued';
  if (statuses.every((s) => s === 'failed')) return 'failed';
  if (statuses.every((s) => TERMINAL.includes(s))) return 'done';
  if (statuses.every((s) => CLASSIFYING_DONE.includes(s))) return 'classified';
  return 'processing';
}

/** The webhook events a study with these instance statuses has reached. */
export function reachedEvents(statuses: InstanceStatus[]): WebhookEventType[] {
  if (statuses.length === 0) return [];
  const allFailed = statuses.every((s) => s === 'failed');
  const events: WebhookEventType[] = [];
  if (!allFailed && statuses.every((s) => CLASSIFYING_DONE.includes(s))) events.push('study.classified');
  if (statuses.every((s) => TERMINAL.includes(s))) events.push(allFailed ? 'study.failed' : 'study.completed');
  return events;
}

/** Events that, for a study under the study-stable rule (DICOM), only completeStableStudy records. */
const STABLE_RULE_EVENTS: WebhookEventType[] = ['study.completed', 'study.failed'];

interface EventTarget {
  clientId: string;
  studyId: string;
  url: string;
  generation: number;
}

/** Records one event (the study as it is now is its snapshot) and its delivery; the delivery id when still pending. */
async function recordEvent(
  em: EntityManager,
  type: WebhookEventType,
  target: EventTarget,
): Promise<string | undefined> {
  const [snapshot] = await loadStudyRecords(em, [target.studyId]);
  const event = { id: randomUUID(), type, createdAt: new Date().toISOString(), data: { study: snapshot } };
  const delivery = await recordEventDelivery(em, event, target, target.generation);
  return delivery.status === 'pending' ? delivery.id : undefined;
}

/**
 * After an instance changed: rolls the study status up and records the webhook events it
 * has reached. Safe to run any number of times and concurrently (the unique key on
 * study + type + generation keeps one event per type and generation). Returns the ids of deliveries
 * still pending, for the caller to enqueue with the delivery id as job id (BullMQ ignores duplicates),
 * and `awaitsStable` when the study is under the study-stable rule (it arrived over DICOM) and every
 * instance is done but this generation's completion is not recorded yet: the caller schedules the check.
 * Must run after the instance update has committed, so that of two concurrent last
 * instances at least one sees the other's status.
 */
export async function recordStudyProgress(
  ds: DataSource,
  studyId: string,
): Promise<{ status: StudyStatus; pendingDeliveryIds: string[]; awaitsStable: boolean }> {
  // Read and roll up under the study's row lock: two recorders racing (a retried inference job and
  // the explain job, say) must not let the one that read older statuses write last ('classified'
  // over 'done'). Whoever takes the lock second reads every instance change committed before it.
  const locked = await ds.transaction(async (em) => {
    await em.query('SELECT 1 FROM studies WHERE id = $1 FOR UPDATE', [studyId]);
    // The instances' statuses and this generation's events recorded earlier (study.classified, when
    // the explain worker completes the study), which need no new snapshot.
    const [row]: Array<{
      statuses: InstanceStatus[];
      recorded: RecordedEvent[];
      generation: number;
      stable_rule: boolean;
      completed: boolean;
    }> = await em.query(
      `SELECT ARRAY(SELECT status FROM instances WHERE study_id = s.id) AS statuses,
              COALESCE((SELECT json_agg(json_build_object('type', e.type, 'deliveryId', d.id, 'deliveryStatus', d.status))
                          FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id
                         WHERE e.study_id = s.id AND e.generation = s.generation), '[]') AS recorded,
              s.generation, s.study_instance_uid IS NOT NULL AS stable_rule,
              s.completed_generation IS NOT DISTINCT FROM s.generation AS completed
         FROM studies s WHERE s.id = $1`,
      [studyId],
    );
    if (!row) return undefined;
    const status = rollUpStatus(row.statuses);
    // TypeORM answers UPDATE ... RETURNING with [rows, rowCount]. Without a callbackUrl, the client's default webhook URL.
    const [[study]]: [Array<{ client_id: string; callback_url: string | null }>, number] = await em.query(
      `UPDATE studies SET status = $2, updated_at = CASE WHEN status = $2 THEN updated_at ELSE now() END WHERE id = $1
         RETURNING client_id, COALESCE(callback_url, (SELECT webhook_url FROM clients c WHERE c.id = studies.client_id)) AS callback_url`,
      [studyId, status],
    );
    return { row, status, study };
  });
  if (!locked) return { status: 'queued', pendingDeliveryIds: [], awaitsStable: false };
  const { row, status, study } = locked;
  const { statuses, recorded, generation } = row;
  const awaitsStable = row.stable_rule && !row.completed && (status === 'done' || status === 'failed');
  if (!study?.callback_url) return { status, pendingDeliveryIds: [], awaitsStable };
  const target = { clientId: study.client_id, studyId, url: study.callback_url, generation };

  const pendingDeliveryIds: string[] = [];
  for (const type of reachedEvents(statuses)) {
    if (row.stable_rule && STABLE_RULE_EVENTS.includes(type)) continue;
    const known = recorded.find((r) => r.type === type && r.deliveryId);
    const deliveryId = known
      ? known.deliveryStatus === 'pending'
        ? known.deliveryId!
        : undefined
      : await ds.transaction((em) => recordEvent(em, type, target));
    if (deliveryId) pendingDeliveryIds.push(deliveryId);
  }
  return { status, pendingDeliveryIds, awaitsStable };
}

/** What completeStableStudy found. */
export type StableCheck =
  | { state: 'completed'; pendingDeliveryIds: string[] }
  /** An instance arrived less than the quiet time ago: check again in `retryInMs`. */
  | { state: 'waiting'; retryInMs: number }
  /** Quiet, but some instance is not done yet. */
  | { state: 'processing' }
  /** This generation's completion is already recorded, or the study is gone. */
  | { state: 'settled' };

/**
 * The study-stable rule (docs/dicom.md): records this generation's study.completed (study.failed
 * when every instance failed) once no instance arrived for `quietMs` and every instance is done.
 * The study row is locked, so a concurrently arriving instance (recordDicomInstance locks it too)
 * either lands before (the study is not quiet) or after (it opens the next generation).
 */
export async function completeStableStudy(ds: DataSource, studyId: string, quietMs: number): Promise<StableCheck> {
  return ds.transaction(async (em) => {
    const locked = await em.query('SELECT id FROM studies WHERE id = $1 FOR UPDATE', [studyId]);
    if (locked.length === 0) return { state: 'settled' };
    // Read after the lock (a new snapshot), so instances committed by the holder are seen.
    const [study]: Array<{
      client_id: string;
      generation: number;
      completed: boolean;
      wait_ms: number | null;
      url: string | null;
      statuses: InstanceStatus[];
    }> = await em.query(
      `SELECT s.client_id, s.generation, s.completed_generation IS NOT DISTINCT FROM s.generation AS completed,
              CEIL(EXTRACT(EPOCH FROM (s.last_instance_at - now())) * 1000 + $2)::int AS wait_ms,
              COALESCE(s.callback_url, c.webhook_url) AS url,
              ARRAY(SELECT status FROM instances WHERE study_id = s.id) AS statuses
         FROM studies s JOIN clients c ON c.id = s.client_id WHERE s.id = $1`,
      [studyId, quietMs],
    );
    if (study.completed) return { state: 'settled' };
    if ((study.wait_ms ?? 0) > 0) return { state: 'waiting', retryInMs: study.wait_ms! };
    if (study.statuses.length === 0 || !study.statuses.every((s) => TERMINAL.includes(s)))
      return { state: 'processing' };
    await em.query('UPDATE studies SET completed_generation = generation WHERE id = $1', [studyId]);
    if (!study.url) return { state: 'completed', pendingDeliveryIds: [] };
    const type = study.statuses.every((s) => s === 'failed') ? 'study.failed' : 'study.completed';
    const target = { clientId: study.client_id, studyId, url: study.url, generation: study.generation };
    const deliveryId = await recordEvent(em, type, target);
    return { state: 'completed', pendingDeliveryIds: deliveryId ? [deliveryId] : [] };
  });
}
