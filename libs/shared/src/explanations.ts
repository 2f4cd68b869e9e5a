/** GET /v1/instances/:id/explanations: the Grad-CAM++ maps across the network's depth. */
export interface ExplanationLayersDto {
  instanceId: string;
  /** The explained class (the prediction's). */
  classIndex: number;
  /** The layer of the instance's heatmap. */
  targetLayer: string;
  /** Layers in the network: `depth` runs 0 .. layerCount - 1. */
  layerCount: number;
  /** Animated WebP of the animation layers (GIF with Accept: image/gif). */
  animationUrl: string;
  /** Shallowest first. */
  layers: ExplanationLayerDto[];
}

export interface ExplanationLayerDto {
  name: string;
  /** Position in `layers` (0 = shallowest). */
  index: number;
  /** Index of the layer in the network's layer list (topological order). */
  depth: number;
  /** [height, width] of the map (the layer's resolution). */
  mapShape: [number, number];
  /** The strongest cell: column x and row y in map cells, value in [0, 1]. */
  peak: { x: number; y: number; value: number };
  /** The layer of the instance's heatmap. */
  target: boolean;
  /** A frame of the animation. */
  animation: boolean;
  heatmapUrl: string;
}
