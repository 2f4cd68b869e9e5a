import nx from '@nx/eslint-plugin';

// Layers, bottom to top (a project may import its own layer and the layers below it):
//   type:util (shared contracts) < type:infra (platform, db, storage) < type:domain (imaging, ml, dicom)
//   < type:tools (offline model tools) and type:pipeline (job pipeline) < type:app.
// type:testing (@xray/testing) is for test code only; type:workspace is the repository's own checks.
const LAYERS = {
  'type:util': ['type:util'],
  'type:infra': ['type:util', 'type:infra'],
  'type:domain': ['type:util', 'type:infra', 'type:domain'],
  'type:tools': ['type:util', 'type:infra', 'type:domain', 'type:tools'],
  'type:pipeline': ['type:util', 'type:infra', 'type:domain', 'type:pipeline'],
  'type:app': ['type:util', 'type:infra', 'type:domain', 'type:tools', 'type:pipeline'],
  'type:testing': ['type:util', 'type:infra', 'type:testing'],
  'type:workspace': ['type:util', 'type:infra', 'type:domain', 'type:tools', 'type:pipeline', 'type:testing'],
};

// Apps: workers and the CLI never import gateway code, libs never import apps (apps carry no
// scope:shared tag); the workers never load the offline model tools (Keras import, ONNX export, training).
const SCOPES = {
  'scope:shared': { only: ['scope:shared'] },
  'scope:gateway': { only: ['scope:shared'] },
  'scope:worker': { only: ['scope:shared'], not: ['type:tools'] },
  'scope:cli': { only: ['scope:shared'] },
  'scope:web': { only: ['scope:shared'] },
  'scope:tools': { only: ['scope:shared', 'type:testing'] },
  // libs/platform is the bottom utility layer of the infrastructure: db and storage build on it, never the reverse.
  'role:base': { only: ['type:util', 'role:base'] },
};

/** Nx dependency constraints; test code may also import the test helpers. */
function depConstraints(forTests) {
  const testing = forTests ? ['type:testing'] : [];
  return [
    ...Object.entries(LAYERS).map(([sourceTag, allowed]) => ({
      sourceTag,
      onlyDependOnLibsWithTags: [...new Set([...allowed, ...testing])],
    })),
    ...Object.entries(SCOPES).map(([sourceTag, { only, not }]) => ({
      sourceTag,
      onlyDependOnLibsWithTags: [...new Set([...only, ...testing])],
      ...(not ? { notDependOnLibsWithTags: not } : {}),
    })),
  ];
}

const boundaries = (forTests) => [
  'error',
  { enforceBuildableLibDependency: false, allow: [], depConstraints: depConstraints(forTests) },
];

// Test code: specs, integration tests, e2e suites, test folders and test-only fixture folders.
const TEST_FILES = [
  '**/*.spec.ts',
  '**/*.test.ts',
  '**/e2e/**/*.ts',
  '**/test/**/*.ts',
  '**/__fixtures__/**/*.ts',
  'libs/*/testing/**/*.ts',
  'apps/*/src/testing/**/*.ts',
  'tools/**/*.ts',
  'bench/**/*.ts',
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', 'var/**', 'tmp/**', 'test-artifacts/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      // Production code never imports test helpers (the libs' own test fixtures live in libs/*/testing).
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@xray/testing', '@xray/*/testing', '**/testing', '**/testing/**', '**/__fixtures__/**'],
              message: 'Test helpers are for tests only (*.spec.ts, *.test.ts, e2e).',
            },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      // Typed-array and map lookups in the numeric code are checked by construction.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(true),
      'no-restricted-imports': 'off',
    },
  },
];
