// Model serving: what the workers load at run time. Offline tools (Keras import, ONNX export,
// training) live in @xray/model-tools, so a worker never loads them.
export * from './model-card';
export * from './engine';
export { calibratedSoftmax, mirrorHorizontally } from './classification';
export * from './ood';
export * from './package/package-source';
export * from './package/card-validation';
export * from './package/model-package';
export * from './tfjs/backend';
export * from './tfjs/tfjs-engine';
export * from './tfjs/wasm-gradients';
export * from './onnx';
export * from './gradcam/gradcam-plus-plus';
export * from './gradcam/split-model';
export * from './gradcam/card-defaults';
export * from './gradcam/layer-maps';
export * from './gradcam/layer-maps-file';
export * from './render/heatmap';
export * from './render/animation';
