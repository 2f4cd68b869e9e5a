import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTinyTestModelPackage } from '../../testing';
import { createTfjsEngine, type TfjsEngine } from '../tfjs/tfjs-engine';
import { defaultAnimationLayers, knownTargetLayer } from './card-defaults';
import { decodeLayerMaps, encodeLayerMaps, mapPeak } from './layer-maps-file';

// The ONNX side (gradcam.onnx's extra outputs, the shipped package) is tested with the exporter
// in libs/model-tools/src/onnx/layer-maps.spec.ts.
const silent = { info: () => undefined };
const SIZE = 32;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
}

function image(seed: number): Float32Array {
  return Float32Array.from({ length: SIZE * SIZE * 3 }, (_, i) => Math.sin(i * 0.37 + seed) * 0.9);
}

describe('Grad-CAM++ across depth on tfjs, and its storage object', () => {
  let dir: string;
  let tfjs: TfjsEngine;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-depth-file-'));
    // Target conv2_relu (8x8), animation conv1_relu (16x16) and conv2_relu.
    await writeTinyTestModelPackage(dir, { inputSize: SIZE, labels: ['A', 'B', 'C'] });
    tfjs = await createTfjsEngine(dir, { backend: 'cpu', logger: silent });
  });

  afterAll(async () => {
    await tfjs?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('one backward pass gives each layer the map a separate Grad-CAM++ at that layer gives', async () => {
    const depth = await tfjs.explainAcrossDepth(image(1), { classIndex: 2 });
    expect(depth.maps.map((m) => [m.layer, m.mapShape])).toEqual([
      ['conv1_relu', [16, 16]],
      ['conv2_relu', [8, 8]],
    ]);
    expect(depth.targetLayer).toBe('conv2_relu');
    expect(depth.animationLayers).toEqual(['conv1_relu', 'conv2_relu']);
    const names = tfjs.model.layers.map((l) => l.name);
    for (const map of depth.maps) {
      expect(map.depth).toBe(names.indexOf(map.layer));
      expect(map.classIndex).toBe(2);
      const alone = await tfjs.explain(image(1), { classIndex: 2, layer: map.layer });
      expect(maxDiff(map.map, alone.map)).toBeLessThan(1e-5);
    }
    await expect(tfjs.explainAcrossDepth(image(1), { classIndex: 3 })).rejects.toThrow(/outside 0..2/);
  });

  it('stores the maps as one small object that decodes to within 1/510', async () => {
    const depth = await tfjs.explainAcrossDepth(image(2));
    const bytes = encodeLayerMaps(depth, { width: 97, height: 61 }, { width: SIZE, height: SIZE, resize: 'stretch' });
    const floats = depth.maps.reduce((n, m) => n + m.map.length, 0);
    expect(bytes.length).toBeLessThan(floats + 1024); // one byte per cell plus a small header
    const decoded = decodeLayerMaps(bytes);
    expect(decoded.header.image).toEqual({ width: 97, height: 61 });
    expect(decoded.header.targetLayer).toBe('conv2_relu');
    expect(decoded.maps.map((m) => m.layer)).toEqual(depth.maps.map((m) => m.layer));
    decoded.maps.forEach((m, i) => {
      expect(maxDiff(m.map, depth.maps[i].map)).toBeLessThanOrEqual(1 / 510 + 1e-7);
      expect(decoded.header.layers[i].peak).toEqual(mapPeak(depth.maps[i].map, m.mapShape[1]));
    });
    expect(() => decodeLayerMaps(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated map/);
    expect(() => decodeLayerMaps(Buffer.from('PNG!....'))).toThrow(/bad magic/);
  });

  it('finds the peak cell', () => {
    expect(mapPeak(Float32Array.of(0, 0.2, 0.1, 0.9, 0.3, 0.9), 3)).toEqual({ x: 0, y: 1, value: expect.closeTo(0.9) });
  });
});

describe('card defaults for known architectures', () => {
  const denseNet = [
    ...[1, 2, 3, 4, 5, 6].map((b) => `conv2_block${b}_concat`),
    ...Array.from({ length: 12 }, (_, b) => `conv3_block${b + 1}_concat`),
    ...Array.from({ length: 48 }, (_, b) => `conv4_block${b + 1}_concat`),
    ...Array.from({ length: 32 }, (_, b) => `conv5_block${b + 1}_concat`),
    'bn',
    'relu',
  ];

  it('DenseNet201: target conv5_block30_concat, animation at the ends of dense blocks 2, 3 and 4', () => {
    expect(knownTargetLayer(denseNet)).toBe('conv5_block30_concat');
    expect(defaultAnimationLayers(denseNet)).toEqual([
      'conv3_block12_concat',
      'conv4_block48_concat',
      'conv5_block32_concat',
    ]);
  });

  it('MobileNetV2 keeps the last activation as target (none known), and its residual adds for the animation', () => {
    const mobileNet = ['Conv1', 'block_5_add', 'block_12_add', 'block_16_project_BN', 'out_relu'];
    expect(knownTargetLayer(mobileNet)).toBeUndefined();
    expect(defaultAnimationLayers(mobileNet)).toEqual(['block_5_add', 'block_12_add', 'out_relu']);
  });
});
