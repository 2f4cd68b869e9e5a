// The Nx module boundaries are part of the architecture: workers and the CLI never import
// gateway code, and libs never import apps. This lints imports as they would be written.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const eslintBin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

/** Lints `code` as if it were the file `filePath` (ESLint in its own process: its config loader needs real ESM). */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const run = spawnSync(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', filePath], {
    cwd: root,
    input: code,
    encoding: 'utf8',
  });
  // Rule warnings are printed before the JSON report.
  const [result] = JSON.parse(run.stdout.slice(run.stdout.indexOf('[{'))) as Array<{
    messages: Array<{ ruleId: string | null; message: string }>;
  }>;
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('Nx module boundaries', () => {
  // The ESLint rule reads Nx's cached project graph and silently skips itself without one.
  beforeAll(() => {
    const nx = spawnSync(path.join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    expect(nx.status).toBe(0);
  });

  it('refuses gateway code in a worker', async () => {
    const errors = await boundaryErrors(
      'apps/inference-worker/src/probe.ts',
      "import { AppModule } from '../../gateway/src/app.module';\nexport const x = AppModule;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('refuses app code in a lib', async () => {
    const errors = await boundaryErrors(
      'libs/ml/src/probe.ts',
      "import { AppModule } from '../../../apps/gateway/src/app.module';\nexport const x = AppModule;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('lets apps use the shared libs through their aliases', async () => {
    const errors = await boundaryErrors(
      'apps/explain-worker/src/probe.ts',
      "import { QUEUES } from '@xray/shared';\nimport { decodeImage } from '@xray/imaging';\nexport const x = [QUEUES, decodeImage];\n",
    );
    expect(errors).toEqual([]);
  });
});
