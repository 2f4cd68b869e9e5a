import * as fs from 'node:fs';
import * as path from 'node:path';

/** The files `apps/web/build.mjs` writes; nothing else in that folder is served. */
export const WEB_ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
  'app.css.map': 'application/json; charset=utf-8',
} as const;

export type WebAsset = keyof typeof WEB_ASSETS;

/**
 * Where the built viewer is: WEB_DIST_DIR if set; beside the compiled gateway
 * (dist/apps/gateway/src/web -> dist/apps/web); else dist/apps/web of the repository, for the
 * gateway run from its TypeScript sources (tests).
 */
export function webDistDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEB_DIST_DIR) return path.resolve(env.WEB_DIST_DIR);
  const besideDist = path.resolve(__dirname, '..', '..', '..', 'web');
  if (fs.existsSync(path.join(besideDist, 'index.html'))) return besideDist;
  return path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'apps', 'web');
}

/**
 * The viewer only talks to its own origin; images arrive as blob: URLs; no inline script or
 * style. Clinicians' browsers get no chance to run injected content.
 */
export const WEB_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
