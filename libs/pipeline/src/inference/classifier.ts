import type { Classification } from '@xray/ml';
import type { ModelInfo } from '@xray/platform';
import type { DicomFactsDto } from '@xray/shared';

/** One image's classification as the model thread answers it. */
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

/** What the inference handler needs of the worker's model host. */
export interface Classifier {
  readonly model: ModelInfo;
  classify(image: Uint8Array): Promise<ClassifyOutcome>;
}
