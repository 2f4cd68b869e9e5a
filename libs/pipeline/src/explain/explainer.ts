/** What the explain handler asks of the worker's model host. */
export interface ExplainRequest {
  /** The instance's stored 8-bit rendering (PNG), or its original upload when there is none: both decode to the same pixels. */
  image: Uint8Array;
  classIndex: number;
  /** The weights that made the prediction: the thread refuses to explain with others. */
  modelSha256: string;
}

export type ExplainResult =
  | {
      ok: true;
      layer: string;
      heatmapPng: Uint8Array;
      overlayPng: Uint8Array;
      /** The maps across depth (encodeLayerMaps in @xray/ml), stored as they are. */
      layerMaps: Uint8Array;
      modelMs: number;
      /** Wall times in the threads (the stage breakdown in bench/pipeline). */
      stages: Record<string, number>;
    }
  | { ok: false; code: string; message: string; retry: boolean };

export interface Explainer {
  explain(request: ExplainRequest): Promise<ExplainResult>;
}
