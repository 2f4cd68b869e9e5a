// Rebuilds dist/ (tools/build.mjs) when any app or lib source is newer than the last build.
// Run under a lock (tools/testing/built.ts): the check happens inside it, so suites that start
// together build once and never rewrite dist/ under each other.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const stamp = path.join(root, 'dist', 'apps', 'gateway', 'src', 'main.js');

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|json|html|css)$/.test(entry.name) && !/\.(spec|test)\.ts$/.test(entry.name))
        newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const top of ['apps', 'libs']) walk(path.join(root, top));
  return newest;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (newestSource() > built) execFileSync(process.execPath, ['tools/build.mjs'], { cwd: root, stdio: 'inherit' });
