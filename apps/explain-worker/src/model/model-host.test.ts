import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeImage, renderPng } from '@xray/imaging';
import { decodeLayerMaps } from '@xray/ml';
import { loadConfig } from '@xray/platform';
import { makePng, requireBuilt, whenReady, writeTinyOnnxTestModel } from '@xray/testing';
import type { ModelHost as ModelHostType } from './model-host';

/** The explain thread as the worker runs it (built JS in a real worker thread) on the tiny test package. */
const { ModelHost } = requireBuilt<{ ModelHost: typeof ModelHostType }>('apps/explain-worker/src/model/model-host.js');
jest.setTimeout(60_000);

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
let work: string;
let png: Uint8Array;
beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'explain-host-'));
  png = new Uint8Array(await makePng());
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function explainWith(modelDir: string, engine: string) {
  const warnings: unknown[] = [];
  const logger = {
    info: () => undefined,
    warn: (fields: unknown, message: string) => warnings.push([fields, message]),
  } as never;
  const host = new ModelHost(loadConfig('explain-worker', { MODEL_DIR: modelDir, ENGINE: engine }), logger);
  try {
    const runtime = await whenReady(host.readiness());
    const result = await host.explain({ image: png, classIndex: 3, modelSha256: host.info.sha256 });
    if (!result.ok) throw new Error(result.message);
    expect(Buffer.from(result.heatmapPng).subarray(0, 4).equals(PNG_MAGIC)).toBe(true);
    // The maps across depth come with it: the target layer's and the card's animation layers'.
    const depth = decodeLayerMaps(result.layerMaps);
    expect(depth.header.targetLayer).toBe(result.layer);
    expect(depth.maps.map((m) => m.layer)).toContain(result.layer);
    return { runtime, warnings, layer: result.layer };
  } finally {
    await host.close();
  }
}

describe('the explain model thread', () => {
  it('explains the stored 8-bit rendering exactly as the upload it was rendered from', async () => {
    const dir = path.join(work, 'rendering');
    await writeTinyOnnxTestModel(dir);
    // A colour upload of odd size: its rendering is the grey version, stored as PNG by the inference worker.
    const rgb = Buffer.from(Array.from({ length: 97 * 61 * 3 }, (_, i) => (i * 37 + (i % 7) * 11) % 256));
    const colour = new Uint8Array(
      await sharp(rgb, { raw: { width: 97, height: 61, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const rendering = new Uint8Array(await renderPng(await decodeImage(colour)));
    const host = new ModelHost(loadConfig('explain-worker', { MODEL_DIR: dir, ENGINE: 'onnx' }));
    try {
      await whenReady(host.readiness());
      const [fromUpload, fromRendering] = await Promise.all(
        [colour, rendering].map((image) => host.explain({ image, classIndex: 2, modelSha256: host.info.sha256 })),
      );
      if (!fromUpload.ok || !fromRendering.ok) throw new Error('explanation failed');
      expect(Buffer.from(fromRendering.heatmapPng).equals(Buffer.from(fromUpload.heatmapPng))).toBe(true);
      expect(Buffer.from(fromRendering.overlayPng).equals(Buffer.from(fromUpload.overlayPng))).toBe(true);
      expect(Object.keys(fromRendering.stages).sort()).toEqual(['decode', 'modelInput', 'renderPng']);
    } finally {
      await host.close();
    }
  });

  it('explains with tfjs under ENGINE=tfjs', async () => {
    const dir = path.join(work, 'full');
    await writeTinyOnnxTestModel(dir);
    const tfjs = await explainWith(dir, 'tfjs');
    expect(tfjs).toEqual({
      runtime: { engine: 'tfjs', backend: 'wasm', threads: expect.any(Number) },
      warnings: [],
      layer: 'conv2_relu',
    });
  });

  it('falls back to tfjs, and says so, when the ONNX package has no Grad-CAM++ graph', async () => {
    const dir = path.join(work, 'classifier-only');
    await writeTinyOnnxTestModel(dir);
    const cardFile = path.join(dir, 'model-card.json');
    const card = JSON.parse(readFileSync(cardFile, 'utf8'));
    writeFileSync(cardFile, JSON.stringify({ ...card, onnx: { model: card.onnx.model } }));

    const onnx = await explainWith(dir, 'onnx');
    const fallback = "the ONNX package has no Grad-CAM++ graph for layer 'conv2_relu': explanations run on tfjs (wasm)";
    expect(onnx.runtime).toEqual({
      engine: 'onnx',
      backend: 'cpu',
      threads: expect.any(Number),
      explainEngine: 'tfjs',
      fallback,
    });
    expect(onnx.warnings).toEqual([[{ engine: 'onnx', explainEngine: 'tfjs' }, fallback]]);
    expect(onnx.layer).toBe('conv2_relu');
  });
});
