/** Public API v1 shapes: the gateway produces them, the web viewer and the CLI consume them. */
import type { ConfidenceBand } from './confidence';
import type { ErrorCode } from './errors';
import type { PreprocessingSpec } from './preprocessing';

export type InstanceStatus = 'queued' | 'classifying' | 'classified' | 'explaining' | 'done' | 'failed';
export type StudyStatus = 'queued' | 'processing' | 'classified' | 'done' | 'failed';
export type Priority = 'routine' | 'stat';

export interface ApiError {
  error: { code: ErrorCode; message: string };
}

export interface LabelProbability {
  label: string;
  probability: number;
}

/** The image's features are unlike every class the model was trained on (a photo, a CT slice, a form...). */
export const OUT_OF_DISTRIBUTION_WARNING = 'out-of-distribution';
export type PredictionWarning = typeof OUT_OF_DISTRIBUTION_WARNING;

export interface PredictionDto {
  label: string;
  classIndex: number;
  confidence: number;
  band: ConfidenceBand;
  top5: LabelProbability[];
  /** Empty for an ordinary radiograph; `out-of-distribution` when the model's OOD score exceeds its threshold. */
  warnings: PredictionWarning[];
  /** The model's out-of-distribution score (null when the model has no OOD statistics). */
  oodScore: number | null;
}

export interface ExplanationDto {
  status: 'pending' | 'done' | 'failed';
  heatmapUrl: string | null;
  overlayUrl: string | null;
  layer?: string;
}

export interface ModelRefDto {
  name: string;
  version: string;
  sha256: string;
}

export interface DicomFactsDto {
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  modality?: string;
  bodyPartExamined?: string;
  studyDescription?: string;
  seriesDescription?: string;
  photometricInterpretation?: string;
  rows?: number;
  columns?: number;
  transferSyntaxUid?: string;
}

export interface InstanceDto {
  id: string;
  filename: string;
  status: InstanceStatus;
  format?: 'dicom' | 'png' | 'jpeg';
  sha256?: string;
  size?: number;
  imageUrl: string;
  prediction: PredictionDto | null;
  explanation: ExplanationDto | null;
  error: { code: ErrorCode | string; message: string } | null;
  dicom: DicomFactsDto | null;
  model: ModelRefDto | null;
  preprocessing: PreprocessingSpec | null;
  createdAt: string;
  updatedAt: string;
}

export interface StudyDto {
  id: string;
  status: StudyStatus;
  accessionNumber: string | null;
  priority: Priority;
  callbackUrl: string | null;
  createdAt: string;
  updatedAt: string;
  instances: InstanceDto[];
}

export interface StudyPage {
  items: StudyDto[];
  nextCursor: string | null;
}

/** Webhook event types and envelope. */
export type WebhookEventType = 'study.classified' | 'study.completed' | 'study.failed';

export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  /** `dicom` on study.completed: the DICOM result objects the study gets (UIDs are known before they are built). */
  data: { study: StudyDto; dicom?: StudyDicomObjectsDto };
}

/** A DICOM result object: the study's Comprehensive SR or an instance's Grad-CAM++ Secondary Capture. */
export interface DicomObjectRefDto {
  kind: 'sr' | 'sc';
  sopInstanceUid: string;
  /** The source instance of an SC; null for the SR. */
  instanceId: string | null;
  /** GET it as application/dicom (once built). */
  url: string;
}

/** One DICOM object's delivery to one destination (GET /v1/exports). */
export interface DicomDeliveryDto {
  id: string;
  studyId: string;
  sopInstanceUid: string;
  kind: 'sr' | 'sc';
  instanceId: string | null;
  destination: { id: string; transport: 'dimse' | 'stow'; target: string; removed: boolean };
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** A study's DICOM object with whether it is built and where it went (GET /v1/studies/:id/dicom). */
export interface StudyDicomObjectDto extends DicomObjectRefDto {
  built: boolean;
  deliveries: Array<Omit<DicomDeliveryDto, 'studyId' | 'sopInstanceUid' | 'kind' | 'instanceId'>>;
}

export interface StudyDicomDto {
  /** Null until the study completed. */
  studyInstanceUid: string | null;
  objects: StudyDicomObjectDto[];
}

export interface StudyDicomObjectsDto {
  /** The study the objects are filed in: the source study, or one derived from the study id for PNG/JPEG uploads. */
  studyInstanceUid: string;
  objects: DicomObjectRefDto[];
}

/** Live status event (workers -> gateway over @nestjs/microservices, gateway -> viewer over SSE). */
export interface InstanceStatusEvent {
  clientId: string;
  studyId: string;
  instanceId: string;
  status: InstanceStatus;
  at: string;
}

export const STATUS_EVENT_PATTERN = 'instance.status';
