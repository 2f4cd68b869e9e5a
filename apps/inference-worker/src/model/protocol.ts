import type { ClassifyOutcome } from '@xray/pipeline';

export type { ClassifyOutcome } from '@xray/pipeline';

/** Messages between the inference worker and its model thread (bytes in, results out). */
export interface ClassifyRequest {
  images: Uint8Array[];
}

export interface ClassifyResponse {
  outcomes: ClassifyOutcome[];
  modelMs: number;
}

export type { ModelInfo } from '@xray/platform';
