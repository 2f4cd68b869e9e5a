import type {
  ConfidenceBand,
  DicomFactsDto,
  InstanceStatus,
  LabelProbability,
  ModelRefDto,
  PredictionWarning,
  PreprocessingSpec,
  Priority,
  StudyStatus,
} from '@xray/shared';
import type { DataSource, EntityManager } from 'typeorm';

type Db = DataSource | EntityManager;

/**
 * A study as the data layer knows it: plain data, no links. Times are ISO strings so that a
 * record survives JSON (webhook events store it as their snapshot). The gateway turns it
 * into the API view.
 */
export interface StudyRecord {
  id: string;
  status: StudyStatus;
  accessionNumber: string | null;
  priority: Priority;
  callbackUrl: string | null;
  createdAt: string;
  updatedAt: string;
  instances: InstanceRecord[];
}

export interface InstanceRecord {
  id: string;
  filename: string;
  status: InstanceStatus;
  format: 'dicom' | 'png' | 'jpeg';
  sha256: string;
  size: number;
  dicom: DicomFactsDto | null;
  error: { code: string; message: string } | null;
  /** The latest prediction, null until classified. */
  prediction: PredictionRecord | null;
  createdAt: string;
  updatedAt: string;
}

export interface PredictionRecord {
  label: string;
  classIndex: number;
  confidence: number;
  band: ConfidenceBand;
  top5: LabelProbability[];
  model: ModelRefDto;
  preprocessing: PreprocessingSpec;
  /** Warnings about the input (e.g. out of distribution); empty when none. */
  warnings: PredictionWarning[];
  /** Out-of-distribution score, null when the model ships no OOD statistics. */
  oodScore: number | null;
  /** The explanation of this prediction; 'pending' until the explain worker stored one. */
  explanation: { status: 'pending' | 'done' | 'failed'; layer: string | null };
}

interface StudyRow {
  id: string;
  status: StudyStatus;
  accession_number: string | null;
  priority: Priority;
  callback_url: string | null;
  created_at: Date;
  updated_at: Date;
}

interface InstanceRow {
  id: string;
  study_id: string;
  filename: string;
  status: InstanceStatus;
  format: 'dicom' | 'png' | 'jpeg';
  sha256: string;
  size: string;
  dicom: DicomFactsDto | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
  p_id: string | null;
  label: string | null;
  class_index: number | null;
  confidence: number | null;
  band: ConfidenceBand | null;
  top5: LabelProbability[] | null;
  warnings: PredictionWarning[] | null;
  ood_score: number | null;
  model_name: string | null;
  model_version: string | null;
  model_sha256: string | null;
  preprocessing: PreprocessingSpec | null;
  e_status: 'done' | 'failed' | null;
  e_layer: string | null;
}

/** Studies with their instances, latest predictions and explanations, in two queries, in the order of `studyIds`. */
export async function loadStudyRecords(db: Db, studyIds: string[]): Promise<StudyRecord[]> {
  if (studyIds.length === 0) return [];
  const studies: StudyRow[] = await db.query(
    `SELECT id, status, accession_number, priority, callback_url, created_at, updated_at FROM studies WHERE id = ANY($1)`,
    [studyIds],
  );
  const instances: InstanceRow[] = await db.query(
    `SELECT i.id, i.study_id, i.filename, i.status, i.format, i.sha256, i.size, i.dicom, i.error_code, i.error_message,
            i.created_at, i.updated_at,
            p.id AS p_id, p.label, p.class_index, p.confidence, p.band, p.top5, p.warnings, p.ood_score, p.model_name, p.model_version,
            p.model_sha256, p.preprocessing, e.status AS e_status, e.layer AS e_layer
       FROM instances i
       LEFT JOIN LATERAL (SELECT * FROM predictions WHERE instance_id = i.id ORDER BY created_at DESC LIMIT 1) p ON true
       LEFT JOIN explanations e ON e.prediction_id = p.id
      WHERE i.study_id = ANY($1)
      ORDER BY i.position`,
    [studyIds],
  );
  const byStudy = new Map<string, InstanceRecord[]>();
  for (const row of instances) {
    const list = byStudy.get(row.study_id) ?? [];
    list.push(instanceRecord(row));
    byStudy.set(row.study_id, list);
  }
  const order = new Map(studyIds.map((id, i) => [id, i]));
  return studies
    .sort((a, b) => order.get(a.id)! - order.get(b.id)!)
    .map((s) => ({
      id: s.id,
      status: s.status,
      accessionNumber: s.accession_number,
      priority: s.priority,
      callbackUrl: s.callback_url,
      createdAt: s.created_at.toISOString(),
      updatedAt: s.updated_at.toISOString(),
      instances: byStudy.get(s.id) ?? [],
    }));
}

function instanceRecord(row: InstanceRow): InstanceRecord {
  return {
    id: row.id,
    filename: row.filename,
    status: row.status,
    format: row.format,
    sha256: row.sha256,
    size: Number(row.size),
    dicom: row.dicom,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    prediction: row.p_id
      ? {
          label: row.label!,
          classIndex: row.class_index!,
          confidence: row.confidence!,
          band: row.band!,
          top5: row.top5 ?? [],
          warnings: row.warnings ?? [],
          oodScore: row.ood_score,
          model: { name: row.model_name!, version: row.model_version!, sha256: row.model_sha256! },
          preprocessing: row.preprocessing!,
          explanation: { status: row.e_status ?? 'pending', layer: row.e_layer },
        }
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
