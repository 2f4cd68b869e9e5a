/**
 * The study view's "DICOM results" panel in headless chromium against the real system: one
 * destination (DCMTK storescp) takes the results, another is down; the panel says so per destination.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import {
  freePort,
  makeDicom,
  startedTogether,
  startStoreScp,
  startSystem,
  type RunningSystem,
  type StoreScp,
} from '@xray/testing';
import { collectPageErrors, launchChromium, screenshot } from './browser';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RUN = Date.now().toString(36);

jest.setTimeout(180_000);

describe('DICOM results panel in chromium', () => {
  let system: RunningSystem;
  let browser: Browser;
  let page: Page;
  let storescp: StoreScp;
  let work: string;
  let pageErrors: string[];

  beforeAll(async () => {
    execFileSync(
      'flock',
      [path.join(os.tmpdir(), 'xray-build.lock'), process.execPath, path.join(ROOT, 'apps/web/build.mjs')],
      { cwd: ROOT, stdio: 'inherit' },
    );
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-web-dicom-'));
    [system, browser, storescp] = await startedTogether([
      startSystem({ env: { DICOM_EXPORT_BACKOFF_MS: '500', DICOM_EXPORT_MAX_ATTEMPTS: '20' } }),
      launchChromium(),
      freePort().then((port) => startStoreScp({ port, dir: work, aeTitle: 'ARCHIVE' })),
    ]);
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    pageErrors = collectPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await storescp?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('shows per destination where the results were sent and whether it worked', async () => {
    const { apiKey } = await system.createClient(`web-dicom-${RUN}`);
    const xray = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['bin/xray.js', 'destination', 'add', '--client', `web-dicom-${RUN}`, ...args],
        {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: system.databaseUrl },
        },
      );
    const downPort = await freePort(); // nothing listens there
    await xray('--dicom', `ARCHIVE@127.0.0.1:${storescp.port}`);
    await xray('--dicom', `DOWN@127.0.0.1:${downPort}`, '--objects', 'sr');

    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(makeDicom({ sopInstanceUid: `2.25.${Date.now()}` }))]), 'chest.dcm');
    form.append('accessionNumber', `DICOM-${RUN}`);
    const headers = { Authorization: `Bearer ${apiKey}` };
    const { id } = await (await fetch(`${system.url}/v1/studies`, { method: 'POST', body: form, headers })).json();
    for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 250))) {
      const { items } = await (await fetch(`${system.url}/v1/exports?study=${id}`, { headers })).json();
      if (items.filter((d: any) => d.status === 'delivered').length === 2 && items.some((d: any) => d.lastError)) break;
      if (Date.now() > deadline) throw new Error(`exports: ${JSON.stringify(items)}`);
    }

    await page.goto(system.url);
    await page.fill('#api-key', apiKey);
    await page.click('form.sign-in button[type=submit]');
    await page.waitForSelector('#tab-history');
    await page.click('#tab-history');
    await page.click(`button[aria-label="Open study DICOM-${RUN} in single mode"]`);
    const archive = page.locator(`.dicom-destination[data-target="ARCHIVE@127.0.0.1:${storescp.port}"]`);
    const down = page.locator(`.dicom-destination[data-target="DOWN@127.0.0.1:${downPort}"]`);
    await archive.waitFor();
    expect(await archive.innerText()).toMatch(/C-STORE ARCHIVE@127\.0\.0\.1:\d+ ✓ Delivered 2 of 2 stored/);
    expect(await down.innerText()).toMatch(
      /C-STORE DOWN@127\.0\.0\.1:\d+ … Sending 0 of 1 stored\s+.*(ECONNREFUSED|refused|connect)/is,
    );
    expect(await page.locator('.dicom-exports').innerText()).toContain('2 objects (1 SR, 1 SC)');
    await screenshot(page, 'dicom-results-panel');
    expect(pageErrors).toEqual([]);
  });
});
