/** @jest-environment <rootDir>/testing/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeWithShared, sharedPath } from '@xray/testing';
import { createOnnxEngine, createTfjsEngine, initTfjsBackend, packageIOHandler, packageReader } from '@xray/ml';
import { importKeras } from '../keras/import-keras';
import { exportOnnxPackage } from './package-export';
import { testImage } from '../../testing/onnx/models';
import { compareWithTfjs, type Comparison } from '../../testing/onnx/compare';

// A real third-party MobileNetV2 (trained weights, Keras names, AveragePooling2D + Flatten head) on real radiographs.
describeWithShared(
  'ONNX export of a real tfjs MobileNetV2',
  ['models/nsfwjs-mobilenetv2/model.json', 'data/unifesp/images'],
  () => {
    let result: Comparison;

    beforeAll(async () => {
      await initTfjsBackend({ backend: 'wasm', threads: 1 });
      const model = await tf.loadLayersModel(packageIOHandler(packageReader(sharedPath('models/nsfwjs-mobilenetv2'))));
      result = await compareWithTfjs(model, 'out_relu', [await testImage(224, 5), await testImage(224, 6)]);
      model.dispose();
    });

    it('classifies radiographs like tfjs within 1e-4', () => {
      expect(result.probabilities).toBeLessThan(1e-4);
    });

    it('explains them like the tfjs Grad-CAM++ within 1e-5 at out_relu', () => {
      expect(result.sameClasses).toBe(true);
      expect(result.map).toBeLessThan(1e-5);
    });
  },
);

// The real Keras 2 file users bring (nested Sequential, BatchNormalization axis stored as a list), through `importKeras`.
describeWithShared(
  'ONNX export of the imported Teachable Machine MobileNetV2',
  ['models/teachable-machine-mobilenetv2/keras_model.h5', 'data/unifesp/images'],
  () => {
    const silent = { info: () => undefined };
    let dir: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-onnx-tm-'));
      await importKeras(sharedPath('models/teachable-machine-mobilenetv2/keras_model.h5'), dir);
      await exportOnnxPackage(dir);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('classifies and explains radiographs like the tfjs engine', async () => {
      const onnx = await createOnnxEngine(dir, { logger: silent });
      const tfjs = await createTfjsEngine(dir, { backend: 'wasm', threads: 1, logger: silent });
      try {
        const images = [await testImage(224, 0), await testImage(224, 7)];
        const [a, b] = [await onnx.classify(images), await tfjs.classify(images)];
        a.forEach((result, i) => {
          expect(result.label).toBe(b[i].label);
          expect(Math.max(...result.probabilities.map((p, j) => Math.abs(p - b[i].probabilities[j])))).toBeLessThan(
            1e-4,
          );
        });
        const [ma, mb] = [await onnx.explain(images[1]), await tfjs.explain(images[1])];
        expect(ma.classIndex).toBe(mb.classIndex);
        expect(Math.max(...Array.from(ma.map, (v, i) => Math.abs(v - mb.map[i])))).toBeLessThan(1e-5);
      } finally {
        await onnx.dispose();
        await tfjs.dispose();
      }
    });
  },
);
