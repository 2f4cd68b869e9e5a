import type { Priority, StudyStatus } from '@xray/shared';
import type { DataSource } from 'typeorm';
import { KeysetQuery } from '../keyset-query';
import { InstanceEntity } from '../entities/instance.entity';
import { StudyEntity } from '../entities/study.entity';

/** A new study, as ingest registers it (its files are already in object storage). */
export interface NewStudy {
  id: string;
  clientId: string;
  priority: Priority;
  accessionNumber: string | null;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  correlationId: string;
}

/** A new instance: one stored file of a study. */
export interface NewInstance {
  id: string;
  position: number;
  filename: string;
  format: 'dicom' | 'png' | 'jpeg';
  objectKey: string;
  sha256: string;
  size: number;
}

/**
 * Inserts a study and its instances (all `queued`) in one transaction. A second study with the
 * same client + idempotency key fails with Postgres' unique violation (code 23505).
 */
export async function insertStudy(ds: DataSource, study: NewStudy, instances: NewInstance[]): Promise<void> {
  await ds.transaction(async (em) => {
    await em.insert(StudyEntity, { ...study, status: 'queued' });
    if (instances.length === 0) return;
    await em.insert(
      InstanceEntity,
      instances.map((i) => ({ ...i, studyId: study.id, clientId: study.clientId, status: 'queued' as const })),
    );
  });
}

/** Adds instances to an existing study (all `queued`). */
export async function insertInstances(
  ds: DataSource,
  study: { id: string; clientId: string },
  instances: NewInstance[],
): Promise<void> {
  if (instances.length === 0) return;
  await ds
    .getRepository(InstanceEntity)
    .insert(instances.map((i) => ({ ...i, studyId: study.id, clientId: study.clientId, status: 'queued' as const })));
}

export async function findStudyIdByIdempotencyKey(
  ds: DataSource,
  clientId: string,
  idempotencyKey: string,
): Promise<string | undefined> {
  const study = await ds
    .getRepository(StudyEntity)
    .findOne({ select: { id: true }, where: { clientId, idempotencyKey } });
  return study?.id;
}

/** True when the study exists and belongs to the client. */
export async function isStudyOwnedBy(ds: DataSource, studyId: string, clientId: string): Promise<boolean> {
  return ds.getRepository(StudyEntity).exists({ where: { id: studyId, clientId } });
}

export interface StudyFilter {
  clientId: string;
  status?: StudyStatus;
  /** Accession number prefix. */
  accessionPrefix?: string;
  /** Only studies with an image predicted as this label. */
  label?: string;
  /** Keyset position: studies strictly before (createdAt, id), newest first. */
  before?: { createdAt: string; id: string };
  limit: number;
}

/** Ids of a client's studies, newest first, with created_at as Postgres text (microseconds) for keyset cursors. */
export async function listStudyIds(
  ds: DataSource,
  filter: StudyFilter,
): Promise<Array<{ id: string; createdAt: string }>> {
  const query = new KeysetQuery();
  // Tenancy: always one client's studies (never skipped like the optional filters).
  query.where(`s.client_id = ${query.param(filter.clientId)}`).equals('s.status', filter.status);
  if (filter.accessionPrefix)
    query.where(`s.accession_number ILIKE ${query.param(filter.accessionPrefix.replace(/[\\%_]/g, '\\$&') + '%')}`);
  if (filter.label)
    query.where(
      `EXISTS (SELECT 1 FROM instances i JOIN predictions p ON p.instance_id = i.id WHERE i.study_id = s.id AND p.label = ${query.param(filter.label)})`,
    );
  query.before('s', filter.before);
  const rows: Array<{ id: string; created_at: string }> = await ds.query(
    `SELECT s.id, s.created_at::text AS created_at FROM studies s ${query.page('s', filter.limit)}`,
    query.params,
  );
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at }));
}

/** Deletes a client's study; its instances, predictions, explanations and events go with it (cascade). */
export async function deleteStudy(ds: DataSource, studyId: string, clientId: string): Promise<void> {
  await ds.getRepository(StudyEntity).delete({ id: studyId, clientId });
}

/** An instance with what its inference job needs. */
export interface QueuedInstance {
  instanceId: string;
  studyId: string;
  clientId: string;
  objectKey: string;
  correlationId: string;
  priority: Priority;
}

/** Instances still `queued` after `olderThanS` seconds, oldest first (the queue sweeper re-enqueues them). */
export async function findStaleQueuedInstances(
  ds: DataSource,
  olderThanS: number,
  limit = 500,
): Promise<QueuedInstance[]> {
  const rows: Array<Record<string, string>> = await ds.query(
    `SELECT i.id, i.study_id, i.client_id, i.object_key, s.correlation_id, s.priority
       FROM instances i JOIN studies s ON s.id = i.study_id
      WHERE i.status = 'queued' AND i.created_at < now() - make_interval(secs => $1)
      ORDER BY i.created_at LIMIT $2`,
    [olderThanS, limit],
  );
  return rows.map((r) => ({
    instanceId: r.id,
    studyId: r.study_id,
    clientId: r.client_id,
    objectKey: r.object_key,
    correlationId: r.correlation_id,
    priority: r.priority as Priority,
  }));
}

/** Which of these study ids have a row (the storage sweeper keeps their objects). */
export async function existingStudyIds(ds: DataSource, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: Array<{ id: string }> = await ds.query('SELECT id FROM studies WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}
