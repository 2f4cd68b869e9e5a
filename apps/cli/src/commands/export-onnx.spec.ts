/** @jest-environment <rootDir>/../../libs/model-tools/testing/ort-environment.js */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type ModelCard } from '@xray/ml';
import { writeTinyTestModelPackage } from '@xray/ml/testing';
import { runCli } from '../testing/run-cli';

describe('xray export-onnx', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-export-onnx-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('adds the ONNX graphs to a package, which then serves on ONNX Runtime', async () => {
    await writeTinyTestModelPackage(dir);
    const out = await runCli(['export-onnx', '--model', dir]);
    expect(out).toMatch(/wrote model\.onnx \(/);
    expect(out).toMatch(/wrote gradcam\.onnx \(/);
    expect(out).toMatch(/wrote gradcam\.conv1_relu\.onnx \(/);
    const card = JSON.parse(await readFile(join(dir, 'model-card.json'), 'utf8')) as ModelCard;
    expect(card.onnx).toEqual({ model: 'model.onnx', gradcam: 'gradcam.onnx' });

    const engine = await createEngine(dir, { logger: { info: () => undefined } });
    try {
      expect(engine.info.engine).toBe('onnx');
      const [result] = await engine.classify([new Float32Array(64 * 64 * 3).fill(0.25)]);
      expect(result.probabilities).toHaveLength(card.labels.length);
      const map = await engine.explain(new Float32Array(64 * 64 * 3).fill(0.25), { layer: 'conv1_relu' });
      expect(map.mapShape).toEqual([32, 32]);
    } finally {
      await engine.dispose();
    }
  });

  it('fails clearly on a folder that is not a model package', async () => {
    await expect(runCli(['export-onnx', '--model', join(dir, 'missing')])).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
  });
});
