import type { DataSource } from 'typeorm';
import { KeysetQuery } from '../keyset-query';
import type { DicomResultKind } from './dicom-destinations.repository';

/**
 * The DICOM objects made for a study (their UIDs are known when the study completes; the bytes
 * are built by the export job and cached in object storage) and their deliveries, one per object
 * and destination. Every write is idempotent: a re-run job or a repeated progress record converges.
 */

/** An object a study gets, as planned when the study completed. */
export interface PlannedDicomObject {
  kind: DicomResultKind;
  sopInstanceUid: string;
  /** The source instance of an SC; null for the study's SR. */
  instanceId: string | null;
}

export type DicomDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * Records a completed study's objects and a pending delivery of each to every active destination
 * of the client that takes its kind. Returns the destinations with pending deliveries of this study.
 */
export async function recordStudyDicomObjects(
  ds: DataSource,
  study: { clientId: string; studyId: string },
  objects: PlannedDicomObject[],
): Promise<string[]> {
  if (objects.length === 0) return [];
  return ds.transaction(async (em) => {
    await em.query(
      `INSERT INTO dicom_objects (client_id, study_id, instance_id, kind, sop_instance_uid)
       SELECT $1, $2, o.instance_id, o.kind, o.sop_instance_uid
         FROM json_to_recordset($3) AS o(instance_id uuid, kind text, sop_instance_uid text)
       ON CONFLICT (study_id, sop_instance_uid) DO NOTHING`,
      [
        study.clientId,
        study.studyId,
        JSON.stringify(
          objects.map((o) => ({ instance_id: o.instanceId, kind: o.kind, sop_instance_uid: o.sopInstanceUid })),
        ),
      ],
    );
    await em.query(
      `INSERT INTO dicom_deliveries (object_id, destination_id, client_id, study_id, status)
       SELECT o.id, d.id, o.client_id, o.study_id, 'pending'
         FROM dicom_objects o
         JOIN dicom_destinations d ON d.client_id = o.client_id AND d.removed_at IS NULL AND o.kind = ANY(d.object_kinds)
        WHERE o.study_id = $1
       ON CONFLICT (object_id, destination_id) DO NOTHING`,
      [study.studyId],
    );
    const rows: Array<{ destination_id: string }> = await em.query(
      `SELECT DISTINCT destination_id FROM dicom_deliveries WHERE study_id = $1 AND status = 'pending' ORDER BY destination_id`,
      [study.studyId],
    );
    return rows.map((r) => r.destination_id);
  });
}

/** An object of a study and whether its bytes are built. */
export interface StoredDicomObject {
  id: string;
  clientId: string;
  studyId: string;
  instanceId: string | null;
  kind: DicomResultKind;
  sopInstanceUid: string;
  objectKey: string | null;
}

function storedObject(r: Record<string, any>): StoredDicomObject {
  return {
    id: r.id,
    clientId: r.client_id,
    studyId: r.study_id,
    instanceId: r.instance_id,
    kind: r.kind,
    sopInstanceUid: r.sop_instance_uid,
    objectKey: r.object_key,
  };
}

const OBJECT_COLUMNS = 'o.id, o.client_id, o.study_id, o.instance_id, o.kind, o.sop_instance_uid, o.object_key';

/** A study's objects: the SR first, then the SCs in instance order. */
export async function listStudyDicomObjects(ds: DataSource, studyId: string): Promise<StoredDicomObject[]> {
  const rows = await ds.query(
    `SELECT ${OBJECT_COLUMNS} FROM dicom_objects o LEFT JOIN instances i ON i.id = o.instance_id
      WHERE o.study_id = $1 ORDER BY o.kind DESC, i.position, o.sop_instance_uid`,
    [studyId],
  );
  return rows.map(storedObject);
}

export async function markDicomObjectBuilt(ds: DataSource, objectId: string, objectKey: string): Promise<void> {
  await ds.query('UPDATE dicom_objects SET object_key = $2, built_at = now() WHERE id = $1', [objectId, objectKey]);
}

/** The newest object with this SOP Instance UID (of this client; any client's when undefined), built or not. */
export async function findDicomObject(
  ds: DataSource,
  sopInstanceUid: string,
  clientId: string | undefined,
): Promise<StoredDicomObject | undefined> {
  const [row] = await ds.query(
    `SELECT ${OBJECT_COLUMNS} FROM dicom_objects o
      WHERE o.sop_instance_uid = $1 AND ($2::uuid IS NULL OR o.client_id = $2)
      ORDER BY o.object_key IS NULL, o.created_at DESC LIMIT 1`,
    [sopInstanceUid, clientId ?? null],
  );
  return row && storedObject(row);
}

/** A delivery the export job still has to make. */
export interface PendingDicomDelivery {
  id: string;
  objectId: string;
  kind: DicomResultKind;
  sopInstanceUid: string;
  objectKey: string | null;
}

export async function pendingDicomDeliveries(
  ds: DataSource,
  studyId: string,
  destinationId: string,
): Promise<PendingDicomDelivery[]> {
  const rows = await ds.query(
    `SELECT d.id, o.id AS object_id, o.kind, o.sop_instance_uid, o.object_key
       FROM dicom_deliveries d JOIN dicom_objects o ON o.id = d.object_id
      WHERE d.study_id = $1 AND d.destination_id = $2 AND d.status = 'pending' ORDER BY o.kind DESC, o.sop_instance_uid`,
    [studyId, destinationId],
  );
  return rows.map((r: Record<string, any>) => ({
    id: r.id,
    objectId: r.object_id,
    kind: r.kind,
    sopInstanceUid: r.sop_instance_uid,
    objectKey: r.object_key,
  }));
}

/** Counts an attempt of these deliveries. */
export async function countDicomDeliveryAttempt(ds: DataSource, deliveryIds: string[]): Promise<void> {
  await ds.query('UPDATE dicom_deliveries SET attempts = attempts + 1, updated_at = now() WHERE id = ANY($1)', [
    deliveryIds,
  ]);
}

export async function markDicomDeliveryDelivered(ds: DataSource, deliveryId: string, note?: string): Promise<void> {
  await ds.query(
    `UPDATE dicom_deliveries SET status = 'delivered', delivered_at = now(), last_error = $2, updated_at = now() WHERE id = $1`,
    [deliveryId, note ?? null],
  );
}

/** Fails pending deliveries for good (the retry API makes them pending again). */
export async function markDicomDeliveriesFailed(ds: DataSource, deliveryIds: string[], reason: string): Promise<void> {
  await ds.query(
    `UPDATE dicom_deliveries SET status = 'failed', last_error = $2, updated_at = now() WHERE id = ANY($1) AND status = 'pending'`,
    [deliveryIds, reason],
  );
}

/** Notes the latest error of a delivery that will be retried. */
export async function noteDicomDeliveryError(ds: DataSource, deliveryId: string, error: string): Promise<void> {
  await ds.query('UPDATE dicom_deliveries SET last_error = $2, updated_at = now() WHERE id = $1', [deliveryId, error]);
}

/** A delivery as the API lists it. */
export interface DicomDeliveryRecord {
  id: string;
  studyId: string;
  sopInstanceUid: string;
  kind: DicomResultKind;
  instanceId: string | null;
  destination: { id: string; transport: 'dimse' | 'stow'; target: string; removed: boolean };
  status: DicomDeliveryStatus;
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  /** created_at as Postgres text (microseconds), for keyset cursors. */
  cursorAt: string;
}

export interface DicomDeliveryFilter {
  /** Only this client's deliveries; undefined = every client's (admin). */
  clientId?: string;
  studyId?: string;
  destinationId?: string;
  status?: DicomDeliveryStatus;
  /** Keyset position: deliveries strictly before (createdAt, id), newest first. */
  before?: { createdAt: string; id: string };
  limit: number;
}

/** Deliveries newest first. */
export async function listDicomDeliveries(ds: DataSource, filter: DicomDeliveryFilter): Promise<DicomDeliveryRecord[]> {
  const query = new KeysetQuery()
    .equals('d.client_id', filter.clientId)
    .equals('d.study_id', filter.studyId)
    .equals('d.destination_id', filter.destinationId)
    .equals('d.status', filter.status)
    .before('d', filter.before);
  const rows = await ds.query(
    `SELECT d.id, d.study_id, o.sop_instance_uid, o.kind, o.instance_id, t.id AS destination_id, t.transport, t.ae_title,
            t.host, t.port, t.url, t.removed_at, d.status, d.attempts, d.last_error, d.delivered_at, d.created_at,
            d.created_at::text AS cursor_at
       FROM dicom_deliveries d JOIN dicom_objects o ON o.id = d.object_id JOIN dicom_destinations t ON t.id = d.destination_id
      ${query.page('d', filter.limit)}`,
    query.params,
  );
  return rows.map((r: Record<string, any>): DicomDeliveryRecord => ({
    id: r.id,
    studyId: r.study_id,
    sopInstanceUid: r.sop_instance_uid,
    kind: r.kind,
    instanceId: r.instance_id,
    destination: {
      id: r.destination_id,
      transport: r.transport,
      target: r.transport === 'dimse' ? `${r.ae_title}@${r.host}:${r.port}` : r.url,
      removed: r.removed_at !== null,
    },
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
    createdAt: new Date(r.created_at),
    cursorAt: r.cursor_at,
  }));
}

/**
 * Makes a failed delivery pending again. Returns its study, destination and the study's
 * correlation id, or undefined when no failed delivery has this id (for this client).
 */
export async function reopenFailedDicomDelivery(
  ds: DataSource,
  deliveryId: string,
  clientId: string | undefined,
): Promise<{ studyId: string; destinationId: string; correlationId: string } | undefined> {
  const [[row]] = await ds.query(
    `UPDATE dicom_deliveries d SET status = 'pending', updated_at = now()
       FROM studies s
      WHERE d.id = $1 AND d.status = 'failed' AND ($2::uuid IS NULL OR d.client_id = $2) AND s.id = d.study_id
      RETURNING d.study_id, d.destination_id, s.correlation_id`,
    [deliveryId, clientId ?? null],
  );
  return row && { studyId: row.study_id, destinationId: row.destination_id, correlationId: row.correlation_id };
}

/** The client and correlation id of a study (undefined once deleted). */
export async function findStudyOwner(
  ds: DataSource,
  studyId: string,
): Promise<{ clientId: string; correlationId: string } | undefined> {
  const [row] = await ds.query('SELECT client_id, correlation_id FROM studies WHERE id = $1', [studyId]);
  return row && { clientId: row.client_id, correlationId: row.correlation_id };
}
