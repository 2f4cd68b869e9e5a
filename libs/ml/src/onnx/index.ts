export { exportClassifier } from './export-model';
export { exportGradCam } from './export-gradcam';
export { exportOnnxPackage, type OnnxExportStep, ONNX_MODEL_FILE, ONNX_GRADCAM_FILE } from './package-export';
export { createOnnxEngine, OnnxEngine, type OnnxEngineOptions, type OnnxProvider } from './onnx-engine';
export { createEngine, engineChoice, type CreateEngineOptions, type EngineChoice } from './create-engine';
export { forwardFlops } from './flops';
export { measureFp32Peak, type Fp32Peak } from './peak';
