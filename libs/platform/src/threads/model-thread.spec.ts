import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runHealthChecks } from '../observability/health';
import { ModelThread, type ModelRuntime } from './model-thread';

type Info = { runtime: ModelRuntime };

describe('ModelThread', () => {
  it('reports a missing MODEL_DIR through readiness instead of crashing', async () => {
    const thread = new ModelThread<unknown, unknown, Info>('/unused/thread.js', {
      modelDir: '/nonexistent/model',
      engine: 'auto',
    });
    expect(() => thread.readiness().check()).toThrow(/MODEL_DIR \/nonexistent\/model does not exist/);
    await expect(thread.call({})).rejects.toThrow(/does not exist/);
    await thread.close();
  });

  it('reports the runtime the thread loaded in readiness and the log, and answers calls', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'model-thread-'));
    // A plain JS thread speaking the serveThread protocol: it echoes the settings it was given.
    const script = path.join(dir, 'echo.thread.js');
    writeFileSync(
      script,
      `const { parentPort, workerData } = require('node:worker_threads');
       parentPort.postMessage({ type: 'ready', info: { runtime: { engine: workerData.engine, backend: 'cpu', threads: 2 }, modelDir: workerData.modelDir } });
       parentPort.on('message', ({ id, request }) => parentPort.postMessage({ type: 'result', id, result: request * 2 }));`,
    );
    const logged: unknown[] = [];
    const logger = { info: (fields: unknown, message: string) => logged.push([fields, message]) } as never;
    const thread = new ModelThread<number, number, Info & { modelDir: string }>(
      script,
      { modelDir: dir, engine: 'onnx' },
      logger,
    );
    try {
      const deadline = Date.now() + 10_000;
      while ((await runHealthChecks([thread.readiness()])).status !== 'ok' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const report = await runHealthChecks([thread.readiness()]);
      expect(report.checks.model).toMatchObject({
        status: 'up',
        detail: { engine: 'onnx', backend: 'cpu', threads: 2 },
      });
      expect(thread.info.modelDir).toBe(dir);
      expect(logged).toEqual([[{ requested: 'onnx', engine: 'onnx', backend: 'cpu', threads: 2 }, 'model loaded']]);
      await expect(thread.call(21)).resolves.toBe(42);
    } finally {
      await thread.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
