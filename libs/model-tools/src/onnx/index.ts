export { exportClassifier } from './export-model';
export { exportGradCam } from './export-gradcam';
export { exportOnnxPackage, type OnnxExportStep } from './package-export';
export { forwardFlops } from './flops';
export { measureFp32Peak, type Fp32Peak } from './peak';
