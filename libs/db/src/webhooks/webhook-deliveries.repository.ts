import type { WebhookEventType } from '@xray/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { KeysetQuery } from '../keyset-query';
import { WebhookAttemptEntity } from '../entities/webhook-attempt.entity';
import type { StudyRecord } from '../studies/study-records';

/**
 * Webhook events, their deliveries and the delivery attempts. An event stores the study as
 * it was when the event happened (a plain record, no links): the sender adds the links, so
 * the event id and the body are the same on every attempt.
 */
export interface StoredWebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: { study: StudyRecord };
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * Records an event of a study (one per study, type and generation) and its delivery (one per event).
 * Safe to run concurrently: of two calls the second gets the first one's rows. Returns the
 * delivery's id and status.
 */
export async function recordEventDelivery(
  em: EntityManager,
  event: StoredWebhookEvent,
  target: { clientId: string; studyId: string; url: string },
  /** The study's completion generation (0 unless a DICOM study was reopened, see study-stable). */
  generation = 0,
): Promise<{ id: string; status: DeliveryStatus }> {
  // DO UPDATE (of nothing) so that RETURNING also gives the row a concurrent call inserted first.
  const [stored]: Array<{ id: string }> = await em.query(
    `INSERT INTO webhook_events (id, client_id, study_id, type, payload, generation) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (study_id, type, generation) DO UPDATE SET type = EXCLUDED.type RETURNING id`,
    [event.id, target.clientId, target.studyId, event.type, JSON.stringify(event), generation],
  );
  const [delivery]: Array<{ id: string; status: DeliveryStatus }> = await em.query(
    `INSERT INTO webhook_deliveries (event_id, client_id, url, status) VALUES ($1, $2, $3, 'pending')
     ON CONFLICT (event_id) DO UPDATE SET event_id = EXCLUDED.event_id RETURNING id, status`,
    [stored.id, target.clientId, target.url],
  );
  return delivery;
}

/** What sending a delivery needs: the target, the stored event and the client's signing secret. */
export interface DeliveryToSend {
  id: string;
  url: string;
  status: DeliveryStatus;
  event: StoredWebhookEvent;
  webhookSecret: string;
}

export async function findDeliveryToSend(ds: DataSource, deliveryId: string): Promise<DeliveryToSend | undefined> {
  const [row] = await ds.query(
    `SELECT d.id, d.url, d.status, e.payload, c.webhook_secret FROM webhook_deliveries d
       JOIN webhook_events e ON e.id = d.event_id JOIN clients c ON c.id = d.client_id WHERE d.id = $1`,
    [deliveryId],
  );
  return row && { id: row.id, url: row.url, status: row.status, event: row.payload, webhookSecret: row.webhook_secret };
}

/** Counts an attempt; returns its number (from 1). */
export async function nextDeliveryAttempt(ds: DataSource, deliveryId: string): Promise<number> {
  const [[row]] = await ds.query(
    'UPDATE webhook_deliveries SET attempts = attempts + 1, updated_at = now() WHERE id = $1 RETURNING attempts',
    [deliveryId],
  );
  return row.attempts;
}

export interface AttemptRecord {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Stores one attempt (once: a re-run job does not add a second row for the same attempt number). */
export async function recordDeliveryAttempt(
  ds: DataSource,
  deliveryId: string,
  attempt: number,
  r: AttemptRecord,
): Promise<void> {
  await ds
    .createQueryBuilder()
    .insert()
    .into(WebhookAttemptEntity)
    .values({ deliveryId, attempt, statusCode: r.statusCode, error: r.error, durationMs: r.durationMs })
    .orIgnore()
    .execute();
}

export async function markDeliveryDelivered(ds: DataSource, deliveryId: string): Promise<void> {
  await ds.query(
    `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL, updated_at = now() WHERE id = $1`,
    [deliveryId],
  );
}

/** Fails a pending delivery for good (a retry from the API makes it pending again). */
export async function markDeliveryFailed(ds: DataSource, deliveryId: string, reason: string): Promise<void> {
  await ds.query(
    `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
    [deliveryId, reason],
  );
}

/** Notes the latest error of a delivery that will be retried. */
export async function noteDeliveryError(ds: DataSource, deliveryId: string, error: string): Promise<void> {
  await ds.query('UPDATE webhook_deliveries SET last_error = $2, updated_at = now() WHERE id = $1', [
    deliveryId,
    error,
  ]);
}

export async function findDeliveryProgress(
  ds: DataSource,
  deliveryId: string,
): Promise<{ attempts: number; lastError: string | null } | undefined> {
  const [row] = await ds.query('SELECT attempts, last_error FROM webhook_deliveries WHERE id = $1', [deliveryId]);
  return row && { attempts: row.attempts, lastError: row.last_error };
}

/** A delivery as listed to its client (or an admin). */
export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  studyId: string;
  url: string;
  status: DeliveryStatus;
  attempts: Array<{ attempt: number; statusCode: number | null; error: string | null; durationMs: number; at: string }>;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  /** created_at as Postgres text (microseconds), for keyset cursors. */
  cursorAt: string;
}

export interface DeliveryFilter {
  /** Only this client's deliveries; undefined = every client's (admin). */
  clientId?: string;
  status?: DeliveryStatus;
  /** Keyset position: deliveries strictly before (createdAt, id), newest first. */
  before?: { createdAt: string; id: string };
  limit: number;
}

/** Deliveries newest first, each with every attempt. */
export async function listDeliveries(ds: DataSource, filter: DeliveryFilter): Promise<DeliveryRecord[]> {
  const query = new KeysetQuery()
    .equals('d.client_id', filter.clientId)
    .equals('d.status', filter.status)
    .before('d', filter.before);
  const rows = await ds.query(
    `SELECT d.id, d.event_id, e.type, e.study_id, d.url, d.status, d.last_error, d.delivered_at, d.created_at, d.created_at::text AS cursor_at,
            COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms, 'at', a.created_at) ORDER BY a.attempt)
                        FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempts
       FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
      ${query.page('d', filter.limit)}`,
    query.params,
  );
  return rows.map((r: Record<string, any>): DeliveryRecord => ({
    id: r.id,
    eventId: r.event_id,
    eventType: r.type,
    studyId: r.study_id,
    url: r.url,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
    createdAt: new Date(r.created_at),
    cursorAt: r.cursor_at,
  }));
}

/**
 * Makes a failed delivery pending again. Returns the study's correlation id (so the retry's
 * logs join the study's trail), or undefined when no failed delivery has this id (for this client).
 */
export async function reopenFailedDelivery(
  ds: DataSource,
  deliveryId: string,
  clientId: string | undefined,
): Promise<{ correlationId: string } | undefined> {
  const [[row]] = await ds.query(
    `UPDATE webhook_deliveries d SET status = 'pending', updated_at = now()
       FROM webhook_events e JOIN studies s ON s.id = e.study_id
      WHERE d.id = $1 AND d.status = 'failed' AND ($2::uuid IS NULL OR d.client_id = $2) AND e.id = d.event_id
      RETURNING s.correlation_id`,
    [deliveryId, clientId ?? null],
  );
  return row && { correlationId: row.correlation_id };
}
