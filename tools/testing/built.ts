import { execFile, execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * The built apps and libs (dist/) for tests that run real processes or worker threads, which
 * execute JavaScript: rebuilt first when sources are newer, one build at a time.
 */
export const ROOT = path.resolve(__dirname, '..', '..');

/** Rebuilds dist/ when any app or lib source is newer than the last build (checked under a lock: one build at a time). */
export function ensureBuilt(): void {
  execFileSync(
    'flock',
    [path.join(os.tmpdir(), 'xray-build.lock'), process.execPath, path.join(__dirname, 'build-if-stale.js')],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

/** A module of dist/ by its path relative to the repository root (e.g. 'apps/inference-worker/src/model/model-host.js'). */
export function requireBuilt<T>(relative: string): T {
  ensureBuilt();
  return require(path.join(ROOT, 'dist', relative)) as T;
}

/**
 * The tiny test model package (random weights) in `dir` with model.onnx and its Grad-CAM++
 * graphs, made from the TypeScript sources (the test fixture is not built into dist/) in a child
 * process: onnxruntime-node's typed arrays fail jest's sandbox.
 */
export async function writeTinyOnnxTestModel(dir: string): Promise<void> {
  const fixture = path.join(ROOT, 'libs', 'ml', 'testing', 'index.ts');
  const tools = path.join(ROOT, 'libs', 'model-tools', 'src', 'index.ts');
  const script = `const { writeTinyTestModelPackage } = require(${JSON.stringify(fixture)}); const { exportOnnxPackage } = require(${JSON.stringify(tools)}); writeTinyTestModelPackage(process.argv[1]).then(() => exportOnnxPackage(process.argv[1])).catch((e) => { console.error(e); process.exit(1); });`;
  await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', '-e', script, dir], { cwd: ROOT });
}

/** Polls a readiness check (e.g. a model thread's) until it passes; returns its detail. */
export async function whenReady(
  readiness: { check(): unknown; detail?(): Record<string, unknown> | undefined },
  timeoutMs = 60_000,
): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await readiness.check();
      return readiness.detail?.();
    } catch (error) {
      if (!/loading/.test((error as Error).message) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
