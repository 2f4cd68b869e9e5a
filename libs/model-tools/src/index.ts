// Offline model tools for the CLI and benchmarks: Keras import, ONNX export, architectures,
// training, evaluation and calibration. Never imported by the workers (lint rule).
export * from './keras/import-keras';
export * from './architectures/densenet201';
export * from './architectures/mobilenetv2';
export * from './architectures/backbone';
export * from './onnx';
export * from './training';
