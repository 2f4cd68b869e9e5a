import type { DataSource, EntityManager } from 'typeorm';

type Db = DataSource | EntityManager;

/** What the gateway needs to find an instance's explanation objects in storage. */
export interface InstanceExplanationRef {
  instanceId: string;
  studyId: string;
  /** The latest prediction's id when it has a finished explanation, else null (not explained yet, or failed). */
  predictionId: string | null;
}

/** The caller's instance and its latest prediction's finished explanation; undefined when the instance is not theirs. */
export async function findInstanceExplanation(
  db: Db,
  clientId: string,
  instanceId: string,
): Promise<InstanceExplanationRef | undefined> {
  const [row] = await db.query(
    `SELECT i.id, i.study_id, e.prediction_id
       FROM instances i
       LEFT JOIN LATERAL (SELECT id FROM predictions WHERE instance_id = i.id ORDER BY created_at DESC LIMIT 1) p ON true
       LEFT JOIN explanations e ON e.prediction_id = p.id AND e.status = 'done'
      WHERE i.id = $1 AND i.client_id = $2`,
    [instanceId, clientId],
  );
  if (!row) return undefined;
  return { instanceId: row.id, studyId: row.study_id, predictionId: row.prediction_id ?? null };
}
