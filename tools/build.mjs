// Compiles every app and lib to dist/ with swc (path aliases rewritten to relative requires)
// and copies static assets. Runs after `npm ci` (prepare) and before `npm start`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const swc = join(root, 'node_modules/.bin/swc');
execFileSync(
  swc,
  [
    'apps',
    'libs',
    '-d',
    'dist',
    '--config-file',
    '.swcrc',
    '--copy-files',
    '--ignore',
    '**/*.spec.ts,**/*.test.ts,**/jest.config.js,**/__fixtures__/**,libs/*/testing/**,apps/web/**',
    '--quiet',
  ],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

// Per-app extra build steps (for example the web viewer bundle) live in apps/*/build.mjs.
for (const app of readdirSync(join(root, 'apps'))) {
  const step = join(root, 'apps', app, 'build.mjs');
  if (existsSync(step)) execFileSync(process.execPath, [step], { cwd: root, stdio: 'inherit' });
}
