import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebModule } from './web.module';

async function serve(dir: string): Promise<{ app: INestApplication; url: string }> {
  process.env.WEB_DIST_DIR = dir;
  const app = await NestFactory.create(WebModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

describe('WebModule', () => {
  const previous = process.env.WEB_DIST_DIR;
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-dist-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.WEB_DIST_DIR;
    else process.env.WEB_DIST_DIR = previous;
  });

  it('serves the built viewer at / with a strict content security policy', async () => {
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>viewer</title>');
    fs.writeFileSync(path.join(dir, 'app.js'), 'console.log("viewer")');
    fs.writeFileSync(path.join(dir, 'app.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'not an asset');
    const { app, url } = await serve(dir);
    try {
      const index = await fetch(`${url}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await index.text()).toContain('<title>viewer</title>');

      const script = await fetch(`${url}/app.js`);
      expect(script.headers.get('content-type')).toContain('text/javascript');
      expect(await script.text()).toBe('console.log("viewer")');
      expect((await fetch(`${url}/app.css`)).headers.get('content-type')).toContain('text/css');

      // Only the bundle's own files are reachable.
      expect((await fetch(`${url}/secret.txt`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('answers 503 with a clear message when the viewer was not built', async () => {
    const { app, url } = await serve(dir);
    try {
      const response = await fetch(`${url}/`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { code: 'INTERNAL', message: 'The web viewer is not built: run `npm run build`.' },
      });
    } finally {
      await app.close();
    }
  });
});
