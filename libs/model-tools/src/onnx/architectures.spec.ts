/** @jest-environment <rootDir>/testing/ort-environment.js */
import { initTfjsBackend } from '@xray/ml';
import { denseNet201 } from '../architectures/densenet201';
import { mobileNetV2 } from '../architectures/mobilenetv2';
import { seedWeights, testImage } from '../../testing/onnx/models';
import { compareWithTfjs, type Comparison } from '../../testing/onnx/compare';

/**
 * The full Keras architectures (random weights, batch-norm statistics randomised) at a small
 * input size, on two radiographs: the exported classifier within 1e-4 of tfjs, the exported
 * Grad-CAM++ graph within 1e-5 of the tfjs engine's Grad-CAM++ (autodiff of the tail).
 */
describe.each([
  ['MobileNetV2 (alpha 0.35)', () => mobileNetV2({ alpha: 0.35, inputSize: 96, classes: 22 }), 96, 'out_relu'],
  ['DenseNet201', () => denseNet201({ inputSize: 64, classes: 22 }), 64, 'conv5_block32_concat'],
])('ONNX export of %s', (_name, build, size, layer) => {
  let result: Comparison;

  beforeAll(async () => {
    await initTfjsBackend({ backend: 'wasm', threads: 1 });
    const model = seedWeights(build());
    result = await compareWithTfjs(model, layer, [await testImage(size, 3), await testImage(size, 4)]);
    model.dispose();
  });

  it('classifies like tfjs within 1e-4', () => {
    expect(result.probabilities).toBeLessThan(1e-4);
  });

  it(`explains at ${layer} like the tfjs Grad-CAM++ within 1e-5`, () => {
    expect(result.sameClasses).toBe(true);
    expect(result.map).toBeLessThan(1e-5);
  });
});
