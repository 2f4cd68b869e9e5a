import type { InstanceRecord, PredictionRecord, StoredWebhookEvent, StudyRecord } from '@xray/db';
import type {
  DicomObjectRefDto,
  InstanceDto,
  PredictionDto,
  StudyDicomObjectsDto,
  StudyDto,
  WebhookEvent,
} from '@xray/shared';
import { planStudyObjects } from '../dicom-export/study-objects-plan';

/**
 * API v1 views: a study record from the data layer plus the links clients follow, built from
 * PUBLIC_URL by the gateway process (for its answers and for the webhooks it sends).
 */
export function studyView(study: StudyRecord, publicUrl: string): StudyDto {
  return { ...study, instances: study.instances.map((instance) => instanceView(instance, publicUrl)) };
}

/** A prediction as the API shows it (and as the DICOM results report it), its OOD warning and score included. */
export function predictionView(prediction: PredictionRecord): PredictionDto {
  return {
    label: prediction.label,
    classIndex: prediction.classIndex,
    confidence: prediction.confidence,
    band: prediction.band,
    top5: prediction.top5,
    // Records stored before the OOD score existed (webhook snapshots) have neither field.
    warnings: prediction.warnings ?? [],
    oodScore: prediction.oodScore ?? null,
  };
}

function instanceView(record: InstanceRecord, publicUrl: string): InstanceDto {
  const base = `${publicUrl}/v1/instances/${record.id}`;
  const { prediction } = record;
  const explained = prediction?.explanation.status === 'done';
  return {
    id: record.id,
    filename: record.filename,
    status: record.status,
    format: record.format,
    sha256: record.sha256,
    size: record.size,
    imageUrl: `${base}/image`,
    prediction: prediction ? predictionView(prediction) : null,
    explanation: prediction
      ? {
          status: prediction.explanation.status,
          heatmapUrl: explained ? `${base}/heatmap` : null,
          overlayUrl: explained ? `${base}/overlay` : null,
          ...(prediction.explanation.layer ? { layer: prediction.explanation.layer } : {}),
        }
      : null,
    error: record.error,
    dicom: record.dicom,
    model: prediction ? prediction.model : null,
    preprocessing: prediction ? prediction.preprocessing : null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * The webhook body of a stored event: its snapshot of the study with links. The same stored
 * event always gives the same body, so every attempt sends the same event. Events stored
 * before snapshots existed already hold the view; they are sent as they are.
 */
export function webhookEventView(event: StoredWebhookEvent, publicUrl: string): WebhookEvent {
  const study = event.data.study;
  if (study.instances.some((instance) => 'imageUrl' in instance)) return event as unknown as WebhookEvent;
  const dicom = event.type === 'study.completed' ? studyDicomObjectsView(study, publicUrl) : undefined;
  return { ...event, data: { study: studyView(study, publicUrl), ...(dicom ? { dicom } : {}) } };
}

/** The DICOM objects a completed study gets, computed from the record (deterministic UIDs). */
export function studyDicomObjectsView(study: StudyRecord, publicUrl: string): StudyDicomObjectsDto | undefined {
  const plan = planStudyObjects(study);
  return (
    plan && {
      studyInstanceUid: plan.studyInstanceUid,
      objects: plan.objects.map((o) => dicomObjectRefView(o, publicUrl)),
    }
  );
}

export function dicomObjectRefView(
  object: { kind: 'sr' | 'sc'; sopInstanceUid: string; instanceId: string | null },
  publicUrl: string,
): DicomObjectRefDto {
  return {
    kind: object.kind,
    sopInstanceUid: object.sopInstanceUid,
    instanceId: object.instanceId,
    url: `${publicUrl}/v1/dicom-objects/${object.sopInstanceUid}`,
  };
}
