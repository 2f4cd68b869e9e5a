import type { Classification } from '@xray/ml';
import type { DicomFactsDto } from '@xray/shared';

/** Messages between the inference worker and its model thread (bytes in, results out). */
export interface ClassifyRequest {
  images: Uint8Array[];
}

export type ClassifyOutcome =
  | (Classification & {
      ok: true;
      dicom: DicomFactsDto | null;
      /** The 8-bit rendering as PNG (cached for GET /v1/instances/:id/image). */
      renderingPng: Uint8Array;
      /** Wall times in the model thread: decoding, preprocessing to the model input, rendering the PNG (the last two run together). */
      decodeMs: number;
      inputMs: number;
      renderMs: number;
    })
  | { ok: false; code: string; message: string };

export interface ClassifyResponse {
  outcomes: ClassifyOutcome[];
  modelMs: number;
}

export type { ModelInfo } from '@xray/platform';
