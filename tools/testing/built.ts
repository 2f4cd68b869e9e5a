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
 * graphs (about a second), made by the built libs in a child process: onnxruntime-node's
 * typed arrays fail jest's sandbox.
 */
export async function writeTinyOnnxTestModel(dir: string): Promise<void> {
  ensureBuilt();
  const ml = path.join(ROOT, 'dist', 'libs', 'ml', 'src', 'index.js');
  const script = `const ml = require(${JSON.stringify(ml)}); ml.writeTinyTestModelPackage(process.argv[1]).then(() => ml.exportOnnxPackage(process.argv[1])).catch((e) => { console.error(e); process.exit(1); });`;
  await promisify(execFile)(process.execPath, ['-e', script, dir], { cwd: ROOT });
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
