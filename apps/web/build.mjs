// Bundles the browser viewer into dist/apps/web/ (index.html, app.js, app.css), which the
// gateway serves at `/`. Run by `npm run build` after the swc step, or on its own.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const src = join(root, 'apps/web/src');
const out = join(root, 'dist/apps/web');

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [
    { in: join(src, 'main.ts'), out: 'app' },
    { in: join(src, 'styles.css'), out: 'app' },
  ],
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  tsconfig: join(root, 'apps/web/tsconfig.json'),
  logLevel: 'warning',
});
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
