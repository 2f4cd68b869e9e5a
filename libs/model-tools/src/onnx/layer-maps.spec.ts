/** @jest-environment <rootDir>/testing/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import { createOnnxEngine, createTfjsEngine, saveModelPackage, type OnnxEngine, type TfjsEngine } from '@xray/ml';
import { exportOnnxPackage } from './package-export';
import { testImage, tinyMobileNet } from '../../testing/onnx/models';

const silent = { info: () => undefined };
const SIZE = 64;
const LABELS = ['Abdomen', 'Ankle', 'Chest', 'Elbow', 'Foot'];
// Network order: block_1_depthwise_relu (16x16), block_2_add (8x8), out_relu (target, 8x8).
const ANIMATION = ['block_2_add', 'block_1_depthwise_relu'];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
}

describe('Grad-CAM++ across depth', () => {
  let dir: string;
  let tfjs: TfjsEngine;
  let onnx: OnnxEngine;
  let images: Float32Array[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-depth-'));
    const model = tinyMobileNet(SIZE, LABELS.length, 3);
    await saveModelPackage(dir, model, {
      name: 'tiny-mobilenet',
      version: '0.0.0-test',
      architecture: 'tiny MobileNetV2-style (seeded random weights, tests only)',
      preprocessing: { width: SIZE, height: SIZE, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
      labels: LABELS,
      gradcam: { targetLayer: 'out_relu', animationLayers: ANIMATION },
      bands: DEFAULT_BAND_THRESHOLDS,
    });
    model.dispose();
    await exportOnnxPackage(dir);
    tfjs = await createTfjsEngine(dir, { backend: 'cpu', logger: silent });
    onnx = await createOnnxEngine(dir, { logger: silent });
    images = await Promise.all([0, 1].map((i) => testImage(SIZE, i)));
  });

  afterAll(async () => {
    await tfjs?.dispose();
    await onnx?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tfjs: one backward pass gives each layer the map a separate Grad-CAM++ at that layer gives', async () => {
    let nonZero = 0;
    for (const [i, image] of images.entries()) {
      const depth = await tfjs.explainAcrossDepth(image, { classIndex: i + 1 });
      expect(depth.maps.map((m) => m.layer)).toEqual(['block_1_depthwise_relu', 'block_2_add', 'out_relu']);
      expect(depth.animationLayers).toEqual(['block_1_depthwise_relu', 'block_2_add']);
      expect(depth.targetLayer).toBe('out_relu');
      expect(depth.layerCount).toBe(tfjs.model.layers.length);
      const names = tfjs.model.layers.map((l) => l.name);
      for (const map of depth.maps) {
        const alone = await tfjs.explain(image, { classIndex: i + 1, layer: map.layer });
        expect(map.depth).toBe(names.indexOf(map.layer));
        expect(map.classIndex).toBe(i + 1);
        expect(map.mapShape).toEqual(alone.mapShape);
        const max = Math.max(...map.map);
        if (max > 0) nonZero++;
        expect([0, 1]).toContainEqual(Number(max.toFixed(5))); // normalised, or 0 where no cell argues for the class
        expect(maxDiff(map.map, alone.map)).toBeLessThan(1e-5);
      }
    }
    expect(nonZero).toBeGreaterThanOrEqual(4);
  });

  it('ONNX: gradcam.onnx gives the same maps from extra outputs (within 1e-4 of tfjs)', async () => {
    for (const image of images) {
      const [fromTfjs, fromOnnx] = await Promise.all([tfjs.explainAcrossDepth(image), onnx.explainAcrossDepth(image)]);
      expect(fromOnnx.classIndex).toBe(fromTfjs.classIndex);
      expect(fromOnnx.maps.map((m) => [m.layer, m.depth, m.mapShape])).toEqual(
        fromTfjs.maps.map((m) => [m.layer, m.depth, m.mapShape]),
      );
      fromOnnx.maps.forEach((m, i) => expect(maxDiff(m.map, fromTfjs.maps[i].map)).toBeLessThan(1e-4));
    }
  });

  it('refuses a class the card has no label for', async () => {
    await expect(tfjs.explainAcrossDepth(images[0], { classIndex: 5 })).rejects.toThrow(/outside 0..4/);
    await expect(onnx.explainAcrossDepth(images[0], { classIndex: -2 })).rejects.toThrow(/outside 0..4/);
  });
});

describe('the shipped model (models/bodypart)', () => {
  it('gradcam.onnx gives the maps across depth at the MobileNetV2 defaults (its card names no animation layers)', async () => {
    const dir = path.resolve(__dirname, '..', '..', '..', '..', 'models', 'bodypart');
    const engine = await createOnnxEngine(dir, { logger: silent, warmUp: false });
    try {
      expect(engine.card.gradcam).toEqual({ targetLayer: 'out_relu' });
      const input = Float32Array.from({ length: engine.inputSize }, (_, i) => Math.sin(i * 0.001));
      const depth = await engine.explainAcrossDepth(input, { classIndex: 3 });
      expect(depth.maps.map((m) => [m.layer, m.mapShape])).toEqual([
        ['block_5_add', [40, 40]],
        ['block_12_add', [20, 20]],
        ['out_relu', [10, 10]],
      ]);
      expect(depth.animationLayers).toEqual(['block_5_add', 'block_12_add', 'out_relu']);
      expect(depth.maps.every((m) => m.classIndex === 3)).toBe(true);
      const alone = await engine.explain(input, { classIndex: 3 });
      expect(maxDiff(depth.maps[2].map, alone.map)).toBeLessThan(1e-6);
    } finally {
      await engine.dispose();
    }
  });
});
