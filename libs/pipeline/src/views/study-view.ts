import type { InstanceRecord, StoredWebhookEvent, StudyRecord } from '@xray/db';
import type { InstanceDto, StudyDto, WebhookEvent } from '@xray/shared';

/**
 * API v1 views: a study record from the data layer plus the links clients follow, built from
 * PUBLIC_URL by the gateway process (for its answers and for the webhooks it sends).
 */
export function studyView(study: StudyRecord, publicUrl: string): StudyDto {
  return { ...study, instances: study.instances.map((instance) => instanceView(instance, publicUrl)) };
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
    prediction: prediction
      ? {
          label: prediction.label,
          classIndex: prediction.classIndex,
          confidence: prediction.confidence,
          band: prediction.band,
          top5: prediction.top5,
        }
      : null,
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
  return { ...event, data: { study: studyView(study, publicUrl) } };
}
