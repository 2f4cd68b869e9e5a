export {
  ONNX_MODEL_FILE,
  ONNX_GRADCAM_FILE,
  WEIGHTS_METADATA,
  FEATURES_OUTPUT,
  gradCamFileFor,
  layerMapOutput,
} from './package-files';
export { readOnnxMetadata } from './onnx-metadata';
export { createOnnxEngine, OnnxEngine, type OnnxEngineOptions, type OnnxProvider } from './onnx-engine';
export { createEngine, type CreateEngineOptions, type EngineChoice } from './create-engine';
