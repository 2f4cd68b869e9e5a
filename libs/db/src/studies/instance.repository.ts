import type {
  DicomFactsDto,
  InstanceStatus,
  LabelProbability,
  PredictionWarning,
  PreprocessingSpec,
} from '@xray/shared';
import type { DataSource } from 'typeorm';

/**
 * The writes the workers make. Each is idempotent: running a job twice (crash, stall)
 * converges on the same rows.
 */

export interface InstanceRef {
  id: string;
  studyId: string;
  clientId: string;
  status: InstanceStatus;
  objectKey: string;
}

export async function findInstance(ds: DataSource, id: string): Promise<InstanceRef | undefined> {
  const [row] = await ds.query('SELECT id, study_id, client_id, status, object_key FROM instances WHERE id = $1', [id]);
  return (
    row && { id: row.id, studyId: row.study_id, clientId: row.client_id, status: row.status, objectKey: row.object_key }
  );
}

/** Moves an instance to `to` when it is in one of `from`; false when it was not. */
export async function transitionInstance(
  ds: DataSource,
  id: string,
  from: InstanceStatus[],
  to: InstanceStatus,
): Promise<boolean> {
  const [, count] = await ds.query(
    `UPDATE instances SET status = $3, updated_at = now() WHERE id = $1 AND status = ANY($2)`,
    [id, from, to],
  );
  return count > 0;
}

/** Fails an instance with a typed error unless it already got further (e.g. a late duplicate). */
export async function failInstance(ds: DataSource, id: string, code: string, message: string): Promise<boolean> {
  const [, count] = await ds.query(
    `UPDATE instances SET status = 'failed', error_code = $2, error_message = $3, updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'classifying')`,
    [id, code, message],
  );
  return count > 0;
}

export interface PredictionInput {
  instanceId: string;
  model: { name: string; version: string; sha256: string };
  label: string;
  classIndex: number;
  confidence: number;
  band: 'green' | 'orange' | 'red';
  top5: LabelProbability[];
  probabilities: number[];
  preprocessing: PreprocessingSpec;
  dicom: DicomFactsDto | null;
  warnings: PredictionWarning[];
  oodScore: number | null;
}

/** Stores the prediction (one per instance + model) and marks the instance classified, in one statement (atomic, one round trip). */
export async function savePrediction(ds: DataSource, p: PredictionInput): Promise<string> {
  const [row]: Array<{ id: string }> = await ds.query(
    `WITH saved AS (
       INSERT INTO predictions (instance_id, model_name, model_version, model_sha256, label, class_index, confidence, band, top5, probabilities, preprocessing, warnings, ood_score)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, $14)
       ON CONFLICT (instance_id, model_sha256) DO UPDATE SET model_version = EXCLUDED.model_version
       RETURNING id
     ), classified AS (
       UPDATE instances SET status = 'classified', dicom = COALESCE($12, dicom), error_code = NULL, error_message = NULL, updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'classifying')
     )
     SELECT id FROM saved`,
    [
      p.instanceId,
      p.model.name,
      p.model.version,
      p.model.sha256,
      p.label,
      p.classIndex,
      p.confidence,
      p.band,
      JSON.stringify(p.top5),
      JSON.stringify(p.probabilities),
      JSON.stringify(p.preprocessing),
      p.dicom ? JSON.stringify(p.dicom) : null,
      JSON.stringify(p.warnings),
      p.oodScore,
    ],
  );
  return row.id;
}

export interface PredictionRef {
  id: string;
  instanceId: string;
  classIndex: number;
  modelSha256: string;
  modelVersion: string;
  preprocessing: PreprocessingSpec;
}

export async function findPrediction(ds: DataSource, id: string): Promise<PredictionRef | undefined> {
  const [row] = await ds.query(
    'SELECT id, instance_id, class_index, model_sha256, model_version, preprocessing FROM predictions WHERE id = $1',
    [id],
  );
  return (
    row && {
      id: row.id,
      instanceId: row.instance_id,
      classIndex: row.class_index,
      modelSha256: row.model_sha256,
      modelVersion: row.model_version,
      preprocessing: row.preprocessing,
    }
  );
}

/** The latest prediction of an instance (to re-enqueue its explanation after a crash). */
export async function latestPredictionId(ds: DataSource, instanceId: string): Promise<string | undefined> {
  const [row] = await ds.query('SELECT id FROM predictions WHERE instance_id = $1 ORDER BY created_at DESC LIMIT 1', [
    instanceId,
  ]);
  return row?.id;
}

export type ExplanationInput =
  | { predictionId: string; instanceId: string; status: 'done'; layer: string; heatmapKey: string; overlayKey: string }
  | { predictionId: string; instanceId: string; status: 'failed'; errorCode: string; errorMessage: string };

/** Stores the explanation (one per prediction) and marks the instance done, in one statement (atomic, one round trip). */
export async function saveExplanation(ds: DataSource, e: ExplanationInput): Promise<void> {
  const done = e.status === 'done';
  await ds.query(
    `WITH saved AS (
       INSERT INTO explanations (prediction_id, instance_id, status, layer, heatmap_key, overlay_key, error_code, error_message)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (prediction_id) DO UPDATE SET status = EXCLUDED.status, layer = EXCLUDED.layer, heatmap_key = EXCLUDED.heatmap_key,
         overlay_key = EXCLUDED.overlay_key, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message
     )
     UPDATE instances SET status = 'done', updated_at = now() WHERE id = $2 AND status IN ('classified', 'explaining')`,
    [
      e.predictionId,
      e.instanceId,
      e.status,
      done ? e.layer : null,
      done ? e.heatmapKey : null,
      done ? e.overlayKey : null,
      done ? null : e.errorCode,
      done ? null : e.errorMessage,
    ],
  );
}

/**
 * The object keys behind an instance's PNGs: its upload and, once explained, its heatmap and
 * overlay, and the prediction whose explanation they are (its id names the maps across depth).
 */
export interface InstanceImageKeys {
  id: string;
  studyId: string;
  objectKey: string;
  /** With the error, what the image route answers while there is no rendering (not ready, or failed). */
  status: InstanceStatus;
  errorCode: string | null;
  errorMessage: string | null;
  heatmapKey: string | null;
  overlayKey: string | null;
  /** The latest prediction's id when its explanation is done, else null (not explained yet, or failed). */
  explainedPredictionId: string | null;
}

/** One client's instance with its image keys (undefined for another client's). */
export async function findInstanceImageKeys(
  ds: DataSource,
  clientId: string,
  instanceId: string,
): Promise<InstanceImageKeys | undefined> {
  const [row] = await ds.query(
    `SELECT i.id, i.study_id, i.object_key, i.status, i.error_code, i.error_message, e.heatmap_key, e.overlay_key, e.prediction_id
       FROM instances i
       LEFT JOIN LATERAL (SELECT id FROM predictions WHERE instance_id = i.id ORDER BY created_at DESC LIMIT 1) p ON true
       LEFT JOIN explanations e ON e.prediction_id = p.id AND e.status = 'done'
      WHERE i.id = $1 AND i.client_id = $2`,
    [instanceId, clientId],
  );
  return (
    row && {
      id: row.id,
      studyId: row.study_id,
      objectKey: row.object_key,
      status: row.status,
      errorCode: row.error_code,
      errorMessage: row.error_message,
      heatmapKey: row.heatmap_key,
      overlayKey: row.overlay_key,
      explainedPredictionId: row.prediction_id ?? null,
    }
  );
}
