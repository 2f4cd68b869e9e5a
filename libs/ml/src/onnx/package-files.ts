import type { ModelCard } from '../model-card';

// The ONNX files of a model package: written by the exporter (@xray/model-tools), read by the engine.
export const ONNX_MODEL_FILE = 'model.onnx';
export const ONNX_GRADCAM_FILE = 'gradcam.onnx';
/** metadata_props key holding the card's weightsSha256, checked when the engine loads. */
export const WEIGHTS_METADATA = 'xray.weights_sha256';
/** model.onnx's output holding the pooled features the out-of-distribution score is computed from. */
export const FEATURES_OUTPUT = 'features';
/** gradcam.onnx's output holding the map of one of its extra layers, the maps across depth (`map` is the target layer's). */
export const layerMapOutput = (layer: string) => `map:${layer}`;

/** File of the Grad-CAM++ graph for an animation layer (the target layer's is `gradcam.onnx`). */
export function gradCamFileFor(card: ModelCard, layer: string): string | undefined {
  if (layer === card.gradcam.targetLayer) return card.onnx?.gradcam;
  if (!card.onnx?.gradcam || !(card.gradcam.animationLayers ?? []).includes(layer)) return undefined;
  return `gradcam.${layer.replace(/[^A-Za-z0-9_-]/g, '_')}.onnx`;
}
