import type { GradCamMap, GreyImage } from '@xray/ml';
import type { PreprocessingSpec } from '@xray/shared';

/** Messages between the explain worker and its threads (the model thread, then the render thread). */
export type { ExplainRequest } from '@xray/pipeline';

type Refusal = { ok: false; code: string; message: string; retry: boolean };

/** The model thread's answer: the map and the decoded image it explains (their buffers are transferred). */
export type GradCamResponse =
  | {
      ok: true;
      cam: GradCamMap;
      /** The maps across depth (encodeLayerMaps), stored as they are. */
      layerMaps: Uint8Array;
      image: GreyImage;
      modelMs: number;
      stages: Pick<ExplainStages, 'decode' | 'modelInput'>;
    }
  | Refusal;

export interface RenderRequest {
  cam: GradCamMap;
  image: GreyImage;
  spec: PreprocessingSpec;
}

export interface RenderResponse {
  heatmapPng: Uint8Array;
  overlayPng: Uint8Array;
}

export type ExplainResponse =
  | ({ ok: true; layer: string; layerMaps: Uint8Array; modelMs: number; stages: ExplainStages } & RenderResponse)
  | Refusal;

/** Wall times in the threads (the stage breakdown in bench/pipeline). */
export type ExplainStages = {
  decode: number;
  modelInput: number;
  renderPng: number;
};

export type { ModelInfo } from '@xray/platform';
