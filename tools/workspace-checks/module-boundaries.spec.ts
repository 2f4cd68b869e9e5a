// The layers are part of the architecture (eslint.config.mjs): util < infra < domain < tools and
// pipeline < apps; workers and the CLI never import gateway code; the workers never load the
// offline model tools; production code never imports test helpers. Each rule is proved with an
// import it must refuse and one it must allow, linted as if written in that file.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

interface Probe {
  /** A file the import is written in (it need not exist). */
  file: string;
  /** The module imported. */
  from: string;
}

const BOUNDARY_RULES = ['@nx/enforce-module-boundaries', 'no-restricted-imports'];

/** Lint errors of the boundary rules for each probe (ESLint in its own process: its config loader needs real ESM). */
function boundaryErrors(probes: Probe[]): string[][] {
  const input = probes.map(({ file, from }) => ({
    filePath: path.join(root, file),
    code: `import * as probe from '${from}';\nexport const x = probe;\n`,
  }));
  const run = spawnSync(process.execPath, [path.join(__dirname, 'lint-probes.mjs')], {
    cwd: root,
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`lint-probes failed: ${run.stderr}`);
  const results = JSON.parse(run.stdout) as Array<Array<{ ruleId: string | null; message: string }>>;
  return results.map((messages) =>
    messages.filter((m) => m.ruleId && BOUNDARY_RULES.includes(m.ruleId)).map((m) => m.message),
  );
}

// [rule, import that must be refused, import that must be allowed]
const CASES: Array<[string, Probe, Probe]> = [
  [
    'util imports nothing above it',
    { file: 'libs/shared/src/probe.ts', from: '@xray/platform' },
    { file: 'libs/platform/src/probe.ts', from: '@xray/shared' },
  ],
  [
    'infra never imports domain',
    { file: 'libs/db/src/probe.ts', from: '@xray/ml' },
    { file: 'libs/db/src/probe.ts', from: '@xray/platform' },
  ],
  [
    'platform (the bottom utility layer) imports neither db nor storage',
    { file: 'libs/platform/src/probe.ts', from: '@xray/storage' },
    { file: 'libs/platform/src/probe.ts', from: '@xray/shared' },
  ],
  [
    'domain never imports the pipeline',
    { file: 'libs/ml/src/probe.ts', from: '@xray/pipeline' },
    { file: 'libs/dicom/src/probe.ts', from: '@xray/ml' },
  ],
  [
    'domain never imports the offline model tools',
    { file: 'libs/imaging/src/probe.ts', from: '@xray/model-tools' },
    { file: 'libs/dicom/src/probe.ts', from: '@xray/platform' },
  ],
  [
    'the offline model tools never import the pipeline',
    { file: 'libs/model-tools/src/probe.ts', from: '@xray/pipeline' },
    { file: 'libs/model-tools/src/probe.ts', from: '@xray/ml' },
  ],
  [
    'the pipeline never imports the offline model tools',
    { file: 'libs/pipeline/src/probe.ts', from: '@xray/model-tools' },
    { file: 'libs/pipeline/src/probe.ts', from: '@xray/db' },
  ],
  [
    'a lib never imports an app',
    { file: 'libs/pipeline/src/probe.ts', from: '../../../apps/gateway/src/app.module' },
    { file: 'apps/gateway/src/probe.ts', from: '@xray/pipeline' },
  ],
  [
    'a worker never imports gateway code',
    { file: 'apps/inference-worker/src/probe.ts', from: '../../gateway/src/app.module' },
    { file: 'apps/inference-worker/src/probe.ts', from: '@xray/pipeline' },
  ],
  [
    'the CLI never imports gateway code',
    { file: 'apps/cli/src/probe.ts', from: '../../gateway/src/app.module' },
    { file: 'apps/cli/src/probe.ts', from: '@xray/ml' },
  ],
  [
    'the inference worker never loads the offline model tools',
    { file: 'apps/inference-worker/src/probe.ts', from: '@xray/model-tools' },
    { file: 'apps/inference-worker/src/probe.ts', from: '@xray/ml' },
  ],
  [
    'the explain worker never loads the offline model tools',
    { file: 'apps/explain-worker/src/probe.ts', from: '@xray/model-tools' },
    { file: 'apps/cli/src/probe.ts', from: '@xray/model-tools' },
  ],
  [
    'production code never imports @xray/testing',
    { file: 'libs/db/src/probe.ts', from: '@xray/testing' },
    { file: 'libs/db/src/probe.test.ts', from: '@xray/testing' },
  ],
  [
    'an app never imports @xray/testing outside its tests',
    { file: 'apps/gateway/src/probe.ts', from: '@xray/testing' },
    { file: 'apps/gateway/test/probe.e2e.test.ts', from: '@xray/testing' },
  ],
  [
    "production code never imports a lib's test fixtures",
    { file: 'apps/inference-worker/src/probe.ts', from: '@xray/ml/testing' },
    { file: 'apps/inference-worker/src/probe.spec.ts', from: '@xray/ml/testing' },
  ],
  [
    "a lib's own source never imports its test fixtures",
    { file: 'libs/ml/src/probe.ts', from: '../testing' },
    { file: 'libs/ml/src/probe.spec.ts', from: '../testing' },
  ],
];

// Imports the layout expects (the pipeline over infra and domain, the apps over the pipeline).
const EXPECTED: Probe[] = [
  ...['@xray/platform', '@xray/db', '@xray/storage', '@xray/imaging', '@xray/ml', '@xray/dicom'].map((from) => ({
    file: 'libs/pipeline/src/probe.ts',
    from,
  })),
  ...['gateway', 'inference-worker', 'explain-worker'].map((app) => ({
    file: `apps/${app}/src/probe.ts`,
    from: '@xray/pipeline',
  })),
  { file: 'libs/dicom/src/probe.ts', from: '@xray/imaging' },
  { file: 'apps/cli/src/probe.ts', from: '@xray/platform/config' },
];

describe('layers and module boundaries', () => {
  let errors: string[][];

  // The Nx rule reads Nx's cached project graph and silently skips itself without one.
  beforeAll(() => {
    const nx = spawnSync(path.join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    expect(nx.status).toBe(0);
    errors = boundaryErrors([...CASES.flatMap(([, refused, allowed]) => [refused, allowed]), ...EXPECTED]);
  });

  it.each(CASES.map((c, i) => [...c, i] as const))('%s', (_rule, refused, allowed, i) => {
    expect({ ...refused, errors: errors[2 * i].length > 0 }).toEqual({ ...refused, errors: true });
    expect({ ...allowed, errors: errors[2 * i + 1] }).toEqual({ ...allowed, errors: [] });
  });

  it('allows the imports the layout expects', () => {
    const expected = errors.slice(2 * CASES.length);
    expect(EXPECTED.map((probe, i) => ({ ...probe, errors: expected[i] }))).toEqual(
      EXPECTED.map((probe) => ({ ...probe, errors: [] })),
    );
  });
});
