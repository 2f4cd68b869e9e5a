/** Injection tokens of the infrastructure InfraModule provides to every app. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const OBJECT_STORE = Symbol('OBJECT_STORE');
export const REDIS = Symbol('REDIS');
export const INFERENCE_QUEUE = Symbol('INFERENCE_QUEUE');
export const EXPLAIN_QUEUE = Symbol('EXPLAIN_QUEUE');
export const WEBHOOK_QUEUE = Symbol('WEBHOOK_QUEUE');
export const DICOM_EXPORT_QUEUE = Symbol('DICOM_EXPORT_QUEUE');
export const STUDY_STABLE_QUEUE = Symbol('STUDY_STABLE_QUEUE');
export const STATUS_PUBLISHER = Symbol('STATUS_PUBLISHER');
/** A worker's model host, as its queue's handler sees it (Classifier or Explainer). */
export const MODEL_HOST = Symbol('MODEL_HOST');

export const QUEUE_TOKENS = [INFERENCE_QUEUE, EXPLAIN_QUEUE, WEBHOOK_QUEUE, DICOM_EXPORT_QUEUE, STUDY_STABLE_QUEUE];
