import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTinyTestModelPackage } from '@xray/ml/testing';
import { loadConfig } from '@xray/platform';
import { makePng, requireBuilt, whenReady, writeTinyOnnxTestModel } from '@xray/testing';
import type { ModelHost as ModelHostType } from './model-host';

/** The model thread as the worker runs it (built JS in a real worker thread) on the tiny test package. */
const { ModelHost } = requireBuilt<{ ModelHost: typeof ModelHostType }>(
  'apps/inference-worker/src/model/model-host.js',
);
jest.setTimeout(60_000);

let work: string;
let png: Uint8Array;
beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'inference-host-'));
  png = new Uint8Array(await makePng());
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function classifyWith(modelDir: string, engine: string) {
  const logged: unknown[] = [];
  const logger = { info: (fields: unknown) => logged.push(fields), warn: () => undefined } as never;
  const host = new ModelHost(loadConfig('inference-worker', { MODEL_DIR: modelDir, ENGINE: engine }), logger);
  try {
    const runtime = await whenReady(host.readiness());
    const outcome = await host.classify(png);
    if (!outcome.ok) throw new Error(outcome.message);
    return { runtime, logged, outcome, model: host.model };
  } finally {
    await host.close();
  }
}

describe('the inference model thread', () => {
  it('classifies with the engine ENGINE asks for; ONNX Runtime and tfjs agree', async () => {
    const dir = path.join(work, 'onnx');
    await writeTinyOnnxTestModel(dir);
    const onnx = await classifyWith(dir, 'auto');
    const tfjs = await classifyWith(dir, 'tfjs');
    expect(onnx.runtime).toEqual({ engine: 'onnx', backend: 'cpu', threads: expect.any(Number) });
    expect(tfjs.runtime).toEqual({ engine: 'tfjs', backend: 'wasm', threads: expect.any(Number) });
    expect(onnx.logged).toEqual([
      { requested: 'auto', engine: 'onnx', backend: 'cpu', threads: onnx.runtime!.threads },
    ]);
    expect(onnx.model.runtime).toEqual(onnx.runtime);
    expect(tfjs.outcome.classIndex).toBe(onnx.outcome.classIndex);
    tfjs.outcome.probabilities.forEach((p, i) =>
      expect(Math.abs(p - onnx.outcome.probabilities[i])).toBeLessThan(1e-4),
    );
  });

  it('uses tfjs for a package without model.onnx under ENGINE=auto, and refuses ENGINE=onnx for it', async () => {
    const dir = path.join(work, 'tfjs-only');
    await writeTinyTestModelPackage(dir);
    expect((await classifyWith(dir, 'auto')).runtime).toMatchObject({ engine: 'tfjs' });
    await expect(classifyWith(dir, 'onnx')).rejects.toThrow(
      /has no ONNX graph; run `xray export-onnx --model DIR` first/,
    );
  });
});
