import type { DataSource } from 'typeorm';

/** Study attributes read from a DICOM header, kept on the study row. */
export interface DicomStudyFacts {
  studyInstanceUid: string;
  accessionNumber: string | null;
}

export interface DicomInstanceRow {
  instanceId: string;
  sopInstanceUid: string;
  filename: string;
  objectKey: string;
  sha256: string;
  size: number;
}

/** The instance a client already sent with this SOPInstanceUID (DICOM re-sends are deduplicated per client). */
export async function findInstanceBySopUid(
  ds: DataSource,
  clientId: string,
  sopInstanceUid: string,
): Promise<{ instanceId: string; studyId: string } | undefined> {
  const [row] = await ds.query('SELECT id, study_id FROM instances WHERE client_id = $1 AND sop_instance_uid = $2', [
    clientId,
    sopInstanceUid,
  ]);
  return row ? { instanceId: row.id, studyId: row.study_id } : undefined;
}

/** The id of the client's study with this StudyInstanceUID, if it has one. */
export async function findStudyIdByStudyUid(
  ds: DataSource,
  clientId: string,
  studyInstanceUid: string,
): Promise<string | undefined> {
  const [row] = await ds.query('SELECT id FROM studies WHERE client_id = $1 AND study_instance_uid = $2', [
    clientId,
    studyInstanceUid,
  ]);
  return row?.id;
}

/**
 * Records one received instance in its study, creating the study on the first instance of a
 * StudyInstanceUID. One transaction; the study row is locked while the position is chosen, so
 * concurrent senders of one study never collide. A new instance restarts the study's quiet time
 * (the study-stable rule); one that arrives after completion reopens the study in its next generation. Returns the study id actually used (another sender may have created the study
 * first with a different proposed id), or `duplicate` when this client already has the SOPInstanceUID.
 */
export async function recordDicomInstance(
  ds: DataSource,
  input: {
    clientId: string;
    proposedStudyId: string;
    study: DicomStudyFacts;
    instance: DicomInstanceRow;
    correlationId: string;
  },
): Promise<{ studyId: string; duplicate: boolean }> {
  return ds.transaction(async (em) => {
    const [study]: Array<{ id: string }> = await em.query(
      `INSERT INTO studies (id, client_id, status, priority, accession_number, study_instance_uid, correlation_id)
            VALUES ($1, $2, 'queued', 'routine', $3, $4, $5)
       ON CONFLICT (client_id, study_instance_uid) WHERE study_instance_uid IS NOT NULL
       DO UPDATE SET accession_number = COALESCE(studies.accession_number, EXCLUDED.accession_number)
       RETURNING id`,
      [
        input.proposedStudyId,
        input.clientId,
        input.study.accessionNumber,
        input.study.studyInstanceUid,
        input.correlationId,
      ],
    );
    const i = input.instance;
    const inserted: Array<{ id: string }> = await em.query(
      `INSERT INTO instances (id, study_id, client_id, position, filename, status, format, object_key, sha256, size, sop_instance_uid)
            VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position) + 1, 0) FROM instances WHERE study_id = $2), $4, 'queued', 'dicom', $5, $6, $7, $8)
       ON CONFLICT (client_id, sop_instance_uid) WHERE sop_instance_uid IS NOT NULL DO NOTHING
       RETURNING id`,
      [i.instanceId, study.id, input.clientId, i.filename, i.objectKey, i.sha256, i.size, i.sopInstanceUid],
    );
    if (inserted.length === 0) return { studyId: study.id, duplicate: true };
    // A new instance restarts the quiet time; after a recorded completion it opens the next generation.
    await em.query(
      `UPDATE studies SET last_instance_at = now(), updated_at = now(),
              generation = CASE WHEN completed_generation = generation THEN generation + 1 ELSE generation END,
              status = CASE WHEN status IN ('done', 'failed', 'classified') THEN 'processing' ELSE status END
        WHERE id = $1`,
      [study.id],
    );
    return { studyId: study.id, duplicate: false };
  });
}

/** Points an instance at a new object key (after its object moved under another study's prefix). */
export async function setInstanceObjectKey(ds: DataSource, instanceId: string, objectKey: string): Promise<void> {
  await ds.query('UPDATE instances SET object_key = $2 WHERE id = $1', [instanceId, objectKey]);
}
