import { randomUUID } from 'node:crypto';
import type { InstanceStatus, StudyStatus, WebhookEventType } from '@xray/shared';
import type { DataSource } from 'typeorm';
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

/**
 * After an instance changed: rolls the study status up and records the webhook events it
 * has reached. Safe to run any number of times and concurrently (the unique key on
 * study + type keeps one event per type). Returns the ids of deliveries still pending, for
 * the caller to enqueue with the delivery id as job id (BullMQ ignores duplicates).
 * Must run after the instance update has committed, so that of two concurrent last
 * instances at least one sees the other's status.
 */
export async function recordStudyProgress(
  ds: DataSource,
  studyId: string,
): Promise<{ status: StudyStatus; pendingDeliveryIds: string[] }> {
  // One round trip: the instances' statuses and the events recorded earlier (study.classified, when the explain
  // worker completes the study), which need no new snapshot.
  const [{ statuses, recorded }]: Array<{ statuses: InstanceStatus[]; recorded: RecordedEvent[] }> = await ds.query(
    `SELECT ARRAY(SELECT status FROM instances WHERE study_id = $1) AS statuses,
            COALESCE((SELECT json_agg(json_build_object('type', e.type, 'deliveryId', d.id, 'deliveryStatus', d.status))
                        FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.study_id = $1), '[]') AS recorded`,
    [studyId],
  );
  const status = rollUpStatus(statuses);
  // TypeORM answers UPDATE ... RETURNING with [rows, rowCount]. Without a callbackUrl, the client's default webhook URL.
  const [[study]]: [Array<{ client_id: string; callback_url: string | null }>, number] = await ds.query(
    `UPDATE studies SET status = $2, updated_at = CASE WHEN status = $2 THEN updated_at ELSE now() END WHERE id = $1
       RETURNING client_id, COALESCE(callback_url, (SELECT webhook_url FROM clients c WHERE c.id = studies.client_id)) AS callback_url`,
    [studyId, status],
  );
  if (!study?.callback_url) return { status, pendingDeliveryIds: [] };
  const target = { clientId: study.client_id, studyId, url: study.callback_url };

  const pendingDeliveryIds: string[] = [];
  for (const type of reachedEvents(statuses)) {
    const known = recorded.find((r) => r.type === type && r.deliveryId);
    const deliveryId = known
      ? known.deliveryStatus === 'pending'
        ? known.deliveryId!
        : undefined
      : await ds.transaction(async (em) => {
          // The study as it is now: the event's snapshot, sent unchanged on every attempt.
          const [snapshot] = await loadStudyRecords(em, [studyId]);
          const event = { id: randomUUID(), type, createdAt: new Date().toISOString(), data: { study: snapshot } };
          const delivery = await recordEventDelivery(em, event, target);
          return delivery.status === 'pending' ? delivery.id : undefined;
        });
    if (deliveryId) pendingDeliveryIds.push(deliveryId);
  }
  return { status, pendingDeliveryIds };
}
