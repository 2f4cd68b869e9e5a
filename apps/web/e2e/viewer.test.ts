/**
 * The viewer in headless chromium against the real system (gateway + workers + PostgreSQL +
 * Redis + the tiny test model): sign in, upload PNG + JPEG + DICOM, follow them live, heatmaps,
 * modes, keyboard, history with the registration check, and 50 images at once.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { BodyPartLabel, ExplanationLayersDto, InstanceDto, PredictionDto, StudyDto } from '@xray/shared';
import { makeDicom, startedTogether, startSystem } from '@xray/testing';
import { checkRegistration, compatibleLabels } from '@xray/shared';
import { ARTIFACTS, collectPageErrors, launchChromium, screenshot } from './browser';
import { jpegFile, pngFile } from './fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RUN = Date.now().toString(36);
const DICOM_SOP_UID = `2.25.${Date.now()}`;

type System = Awaited<ReturnType<typeof startSystem>>;

jest.setTimeout(120_000);

describe('web viewer in chromium', () => {
  let system: System;
  let browser: Browser;
  let page: Page;
  let apiKey: string;
  let pageErrors: string[];
  const timings: Record<string, number> = {};

  async function api<T>(route: string, init: RequestInit = {}, key = apiKey): Promise<T> {
    const response = await fetch(`${system.url}${route}`, {
      ...init,
      headers: { Authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
    });
    if (!response.ok) throw new Error(`${route}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** Submits like a hospital system would (POST /v1/studies), outside the page. */
  async function submit(files: { name: string; buffer: Buffer }[], accessionNumber?: string): Promise<string> {
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([new Uint8Array(file.buffer)]), file.name);
    if (accessionNumber) form.append('accessionNumber', accessionNumber);
    return (await api<{ id: string }>('/v1/studies', { method: 'POST', body: form })).id;
  }

  async function waitForStudy(id: string, key = apiKey): Promise<StudyDto> {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const study = await api<StudyDto>(`/v1/studies/${id}`, {}, key);
      if (study.instances.every((i) => i.status === 'done' || i.status === 'failed')) return study;
    }
    throw new Error(`study ${id} did not finish`);
  }

  async function signIn(key: string): Promise<void> {
    await page.fill('#api-key', key);
    await page.click('form.sign-in button[type=submit]');
    await page.waitForSelector('#tab-upload');
  }

  beforeAll(async () => {
    // The bundle as the sources are now, under the lock the system's own rebuild takes.
    execFileSync(
      'flock',
      [path.join(os.tmpdir(), 'xray-build.lock'), process.execPath, path.join(ROOT, 'apps/web/build.mjs')],
      { cwd: ROOT, stdio: 'inherit' },
    );
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    [system, browser] = await startedTogether([startSystem(), launchChromium()]);
    ({ apiKey } = await system.createClient(`web-e2e-${RUN}`));
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    pageErrors = collectPageErrors(page);
  }, 120_000);

  afterAll(async () => {
    if (Object.keys(timings).length) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      fs.writeFileSync(path.join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2));
      console.log('web viewer timings (ms):', timings);
    }
    await browser?.close();
    await system?.stop();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  it('refuses a wrong API key with a clear message, then signs in and keeps the key for the tab', async () => {
    await page.goto(system.url);
    await page.fill('#api-key', 'not-a-real-key');
    await page.click('form.sign-in button[type=submit]');
    await expectText(page, '#sign-in-error', 'This API key was not accepted');
    await screenshot(page, '01-sign-in-refused');

    await signIn(apiKey);
    expect(await page.evaluate(() => sessionStorage.getItem('xray.apiKey'))).toBe(apiKey);
    await page.reload();
    await page.waitForSelector('#tab-upload');
  });

  let firstStudy: StudyDto;

  it('uploads a PNG, a JPEG and a DICOM with progress and shows each status live until the results', async () => {
    await page.evaluate(() => {
      // Record every status text and progress value the page shows, to prove they changed live.
      const w = window as unknown as { seen: { statuses: Record<string, string[]>; progress: number[] } };
      w.seen = { statuses: {}, progress: [] };
      new MutationObserver(() => {
        for (const card of document.querySelectorAll<HTMLElement>('.card')) {
          const name = card.querySelector('.card-title')?.textContent ?? '';
          const status = card.querySelector('.card-status')?.textContent ?? '';
          const list = (w.seen.statuses[name] ??= []);
          if (status && list[list.length - 1] !== status) list.push(status);
        }
        const progress = document.querySelector('progress');
        if (progress && !progress.hidden) w.seen.progress.push(progress.value);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.setInputFiles('#file-input', [
      {
        name: 'hand-left.dcm',
        mimeType: 'application/dicom',
        buffer: makeDicom({ bodyPartExamined: 'HAND', sopInstanceUid: DICOM_SOP_UID }),
      },
      { name: 'chest.png', mimeType: 'image/png', buffer: await pngFile(1) },
      { name: 'knee.jpg', mimeType: 'image/jpeg', buffer: await jpegFile(2) },
    ]);
    await page.fill('#accession', `WEB-${RUN}-A`);
    await screenshot(page, '02-upload-ready');
    await page.click('.upload-form button[type=submit]');

    await page.waitForSelector('#panel-viewer:not([hidden]) .card >> nth=2');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.card-status')].filter((s) => /^(Done|Failed)/.test(s.textContent ?? ''))
          .length === 3,
      null,
      { timeout: 60_000 },
    );
    const studyId = await page.getAttribute('.upload-study', 'data-study-id');
    firstStudy = await waitForStudy(studyId as string);
    expect(firstStudy.accessionNumber).toBe(`WEB-${RUN}-A`);
    expect(firstStudy.instances.map((i) => i.status)).toEqual(['done', 'done', 'done']);

    const seen = await page.evaluate(
      () => (window as unknown as { seen: { statuses: Record<string, string[]>; progress: number[] } }).seen,
    );
    expect(Math.max(...seen.progress)).toBe(100);
    for (const name of ['hand-left.dcm', 'chest.png', 'knee.jpg']) {
      // Shown while still in the pipeline, then done, without a reload.
      expect(['Queued', 'Classifying', 'Classified', 'Explaining']).toContain(seen.statuses[name][0]);
      expect(seen.statuses[name].at(-1)).toBe('Done');
    }

    // Each card shows the API's label and band colour.
    for (const instance of firstStudy.instances) {
      const card = page.locator(`.card[data-instance-id="${instance.id}"]`);
      await expectText(card, '.card-prediction .label', predictionOf(instance).label);
      expect(await card.locator('.badge').getAttribute('class')).toContain(`band-${predictionOf(instance).band}`);
    }
    // The upload tab lists the same statuses.
    expect(await page.locator('.upload-study .status-chip').allTextContents()).toEqual(['Done', 'Done', 'Done']);
    await screenshot(page, '03-grid-results');
  });

  it('toggles Grad-CAM++ per image and on all, hides all annotations, filters and sorts', async () => {
    const first = page.locator('.card').first();
    await first.locator('.heatmap-toggle').click();
    await expectHeatmaps(page, 1);
    await eventually(() => first.locator('.heatmap-toggle').getAttribute('aria-pressed'), 'true');
    await page.click('text=Show on all');
    await expectHeatmaps(page, 3);
    await screenshot(page, '04-grid-heatmaps');
    await page.click('text=Hide on all');
    await expectHeatmaps(page, 0);

    await page.click('text=Show on all');
    await page.click('text=Hide all annotations');
    await expectHeatmaps(page, 0);
    await eventually(
      () =>
        page
          .locator('.card-prediction')
          .first()
          .evaluate((e) => getComputedStyle(e).visibility),
      'hidden',
    );
    await page.click('text=Hide all annotations');
    await expectHeatmaps(page, 3);

    const sorted = [...firstStudy.instances].sort((a, b) => predictionOf(a).confidence - predictionOf(b).confidence);
    await page.selectOption('#sort-order', 'least-confident');
    await eventually(
      () => page.locator('.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-instance-id'))),
      sorted.map((i) => i.id),
    );

    const band = predictionOf(sorted[0]).band;
    const bandNames = { green: 'High', orange: 'Medium', red: 'Low' } as const;
    await page.locator('.band-filter', { hasText: bandNames[band] }).locator('input').check();
    await eventually(
      () => page.locator('.card').count(),
      firstStudy.instances.filter((i) => predictionOf(i).band === band).length,
    );
    await page.locator('.band-filter', { hasText: bandNames[band] }).locator('input').uncheck();
    const label = predictionOf(sorted[0]).label;
    await page.locator('.label-filters label', { hasText: label }).locator('input').check();
    await eventually(
      () => page.locator('.card .card-prediction .label').allTextContents(),
      firstStudy.instances.filter((i) => predictionOf(i).label === label).map(() => label),
    );
    await page.locator('.label-filters label', { hasText: label }).locator('input').uncheck();
    await page.selectOption('#sort-order', 'upload');
    await eventually(() => page.locator('.card').count(), 3);
  });

  it('switches to single mode by keyboard: prediction, top-5, heatmap with opacity, zoom and DICOM facts', async () => {
    const dicom = byName(firstStudy, 'hand-left.dcm');
    await page.locator(`.card[data-instance-id="${dicom.id}"]`).click();
    await page.keyboard.press('g');
    await page.waitForSelector('.single:not([hidden])');
    await expectText(page, '.single-title', 'hand-left.dcm');
    await expectText(page, '.single-prediction .label', predictionOf(dicom).label);
    await eventually(() => page.locator('.top5 li').count(), 5);
    const facts = await page.locator('.facts').textContent();
    for (const value of [
      'CR',
      'HAND',
      dicom.dicom?.studyDescription,
      DICOM_SOP_UID,
      dicom.dicom?.studyInstanceUid,
      dicom.dicom?.seriesInstanceUid,
    ])
      expect(facts).toContain(value);
    // The banner appears exactly when the header disagrees with the prediction.
    const expectFlag = checkRegistration(dicom.dicom, predictionOf(dicom).label).status === 'mismatch';
    expect(await page.locator('.single .flag-banner').count()).toBe(expectFlag ? 1 : 0);

    // Heatmaps are still on for all (from the previous test): H toggles this one.
    await page.keyboard.press('h');
    await eventually(() => page.getAttribute('.single .heatmap-toggle', 'aria-pressed'), 'false');
    await page.keyboard.press('h');
    await eventually(() => page.getAttribute('.single .heatmap-toggle', 'aria-pressed'), 'true');
    await page.locator('#single-opacity').fill('80');
    await page.waitForFunction(
      () => getComputedStyle(document.querySelector('.single .radiograph-heatmap') as Element).opacity === '0.8',
    );

    await page.click('button[aria-label="Zoom in"]');
    await expectText(page, '.zoom-level', '125 %');
    await page.keyboard.press('0');
    await expectText(page, '.zoom-level', '100 %');

    const position = await page.locator('.single-nav .position').textContent();
    await page.keyboard.press('ArrowRight');
    await eventually(async () => (await page.locator('.single-nav .position').textContent()) !== position, true);
    await page.keyboard.press('ArrowLeft');
    await expectText(page, '.single-title', 'hand-left.dcm');
    await page.locator('#single-opacity').fill('45');
    await screenshot(page, '05-single-dicom');

    await page.setViewportSize({ width: 820, height: 1180 });
    await screenshot(page, '06-single-tablet');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.grid:not([hidden])');
    await screenshot(page, '07-grid-tablet');
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it('steps and plays the Grad-CAM++ layers across depth in single mode; the grid keeps the target layer', async () => {
    const dicom = byName(firstStudy, 'hand-left.dcm');
    const depth = await api<ExplanationLayersDto>(`/v1/instances/${dicom.id}/explanations`);
    const layerRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/heatmap?layer=')) layerRequests.push(new URL(request.url()).search);
    });
    await page.locator(`.card[data-instance-id="${dicom.id}"]`).click();
    await page.keyboard.press('g');
    await page.waitForSelector('.single:not([hidden]) .layer-strip:not([hidden])');
    // The tiny test model: conv1_relu (animation), conv2_relu (target and animation); the target first.
    await expectText(page, '.layer-current .layer-name', 'conv2_relu');
    await expectText(page, '.layer-current .layer-depth', `depth ${depth.layers[1].depth + 1} of ${depth.layerCount}`);
    await expectText(page, '.layer-current .layer-depth', '2/2 · target');
    await eventually(
      () => page.locator('.layer-list .layer-item').allTextContents(),
      ['conv1_relu 32×32', 'conv2_relu 16×16 · target'],
    );
    await expectHeatmaps(page, 1);
    const heatmapSrc = () => page.getAttribute('.single .radiograph-heatmap', 'src');
    const targetSrc = await heatmapSrc();

    await page.keyboard.press('[');
    await expectText(page, '.layer-current .layer-name', 'conv1_relu');
    await expectText(
      page,
      '.layer-current .layer-depth',
      `depth ${depth.layers[0].depth + 1} of ${depth.layerCount} · 1/2`,
    );
    await eventually(async () => (await heatmapSrc()) !== targetSrc, true);
    await expectHeatmaps(page, 1);
    expect(layerRequests).toEqual(['?layer=conv1_relu']);
    await page.keyboard.press('['); // already the shallowest: stays
    await expectText(page, '.layer-current .layer-depth', '1/2');
    await screenshot(page, '07b-single-layer-strip');

    // P plays the animation layers in turn, P again pauses on one.
    await page.keyboard.press('p');
    await eventually(() => page.getAttribute('.layer-play', 'aria-pressed'), 'true');
    await expectText(page, '.layer-play', 'Pause');
    const seen = new Set<string>();
    for (const deadline = Date.now() + 5_000; seen.size < 2 && Date.now() < deadline;) {
      seen.add((await page.locator('.layer-current .layer-name').textContent()) ?? '');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([...seen].sort()).toEqual(['conv1_relu', 'conv2_relu']);
    await page.keyboard.press('p');
    await eventually(() => page.getAttribute('.layer-play', 'aria-pressed'), 'false');
    const paused = await page.locator('.layer-current .layer-name').textContent();
    await new Promise((r) => setTimeout(r, 2 * 900 + 200));
    expect(await page.locator('.layer-current .layer-name').textContent()).toBe(paused);

    await page.keyboard.press(']');
    await page.keyboard.press(']');
    await expectText(page, '.layer-current .layer-name', 'conv2_relu');
    await eventually(heatmapSrc, targetSrc);
    expect(await page.locator('.app-footer').textContent()).toContain('[ ] shallower/deeper layer');

    await page.keyboard.press('Escape');
    await page.waitForSelector('.grid:not([hidden])');
    // The grid's heatmap is the target layer's (the same cached image as single mode's target).
    await eventually(
      () => page.getAttribute(`.card[data-instance-id="${dicom.id}"] .radiograph-heatmap`, 'src'),
      targetSrc,
    );
  });

  it('pages through history newest first, finds studies by accession number and flags a registration error', async () => {
    // Twenty older studies (undecodable, so the workers drop them at once) to fill the first page.
    const truncated = (await pngFile(5)).subarray(0, 60);
    for (let i = 0; i < 20; i++) await submit([{ name: `filler-${i}.png`, buffer: truncated }]);
    // The same pixels as the uploaded DICOM, so the (deterministic) model predicts the same
    // label; the header names a body part that cannot be that label.
    const predicted = predictionOf(byName(firstStudy, 'hand-left.dcm')).label;
    const wrongTerm = ['CHEST', 'HAND', 'KNEE', 'SKULL'].find(
      (term) => !compatibleLabels(term)?.includes(predicted as BodyPartLabel),
    ) as string;
    const misfiledId = await submit(
      [
        {
          name: 'misfiled.dcm',
          buffer: makeDicom({ bodyPartExamined: wrongTerm, sopInstanceUid: `${DICOM_SOP_UID}9` }),
        },
      ],
      `WEB-${RUN}-B`,
    );
    const misfiled = await waitForStudy(misfiledId);
    expect(predictionOf(misfiled.instances[0]).label).toBe(predicted);

    await page.click('#tab-history');
    const rowIds = () =>
      page.locator('.history-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-study-id')));
    await eventually(async () => (await rowIds()).length, 20);
    expect((await rowIds())[0]).toBe(misfiled.id); // newest first
    await page.click('text=Load more');
    await eventually(async () => (await rowIds()).length, 22);
    const all = await rowIds();
    expect(new Set(all).size).toBe(22);
    expect(all.at(-1)).toBe(firstStudy.id);
    expect(await page.isHidden('text=Load more')).toBe(true);

    await page.fill('#history-accession', `WEB-${RUN}-B`);
    await page.click('.history button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('.history-table tbody tr').length === 1);
    await expectText(page, '.history-table tbody tr', '⚠ 1 registration warning');
    await screenshot(page, '08-history-search');
    await page.click(`button[aria-label="Open study WEB-${RUN}-B in single mode"]`);
    await page.waitForSelector('.single:not([hidden]) .flag-banner');
    await expectText(page, '.flag-banner', `says "${wrongTerm}"`);
    await screenshot(page, '09-registration-warning');

    await page.click('#tab-history');
    await page.fill('#history-accession', `WEB-${RUN}-A`);
    await page.click('.history button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('.history-table tbody tr').length === 1);
    await page.click(`button[aria-label="Open study WEB-${RUN}-A in grid mode"]`);
    await page.waitForSelector('.grid:not([hidden]) .card >> nth=2');
    await eventually(() => page.locator('.card').count(), 3);
  });

  it('says why an image or an upload failed', async () => {
    await page.click('#tab-upload');
    const truncated = (await pngFile(3)).subarray(0, 60);
    await page.setInputFiles('#file-input', [{ name: 'truncated.png', mimeType: 'image/png', buffer: truncated }]);
    await page.click('.upload-form button[type=submit]');
    await page.waitForSelector('.single:not([hidden])'); // one file opens in single mode
    await expectText(page, '.single-title', 'truncated.png');
    const study = await waitForStudy((await page.getAttribute('.upload-study', 'data-study-id')) as string);
    const [instance] = study.instances;
    expect(instance.status).toBe('failed');
    await expectText(page, '.single-status', `Failed: ${instance.error?.message} (${instance.error?.code})`);
    await screenshot(page, '10-failed-image');

    // Content that is no image at all is refused by the API: the upload form says so.
    await page.click('#tab-upload');
    await page.setInputFiles('#file-input', [
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') },
    ]);
    await page.click('.upload-form button[type=submit]');
    await expectText(page, '.upload-form .message', 'Upload failed:');
    await expectText(page, '.upload-form .message', '(UNSUPPORTED_MEDIA_TYPE)');
  });

  it('takes a dropped file and falls back to polling when the event stream is unavailable', async () => {
    await page.route('**/v1/events**', (route) => route.abort());
    try {
      await page.reload();
      await page.click('#tab-upload');
      // This one arrives by drag and drop.
      const bytes = [...(await pngFile(4))];
      const dataTransfer = await page.evaluateHandle((png) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(png)], 'polled.png', { type: 'image/png' }));
        return transfer;
      }, bytes);
      await page.dispatchEvent('.drop-zone', 'drop', { dataTransfer });
      await expectText(page, '.file-list', 'polled.png');
      await page.click('.upload-form button[type=submit]');
      await expectText(page, '.single-title', 'polled.png');
      await expectText(page, '.single-status', 'Done', 30_000);
      await expectText(page, '.connection', 'Polling');
    } finally {
      await page.unroute('**/v1/events**');
    }
  });

  it('stays responsive with 50 images', async () => {
    // A second client, signed in through the page: also covers signing out.
    await page.click('text=Sign out');
    await page.waitForSelector('#api-key');
    const { apiKey: key50 } = await system.createClient(`web-e2e-50-${RUN}`);
    await signIn(key50);
    const files = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => ({
        name: `img-${String(i + 1).padStart(2, '0')}.png`,
        mimeType: 'image/png',
        buffer: await pngFile(100 + i, 128),
      })),
    );
    await page.setInputFiles('#file-input', files);

    let t = Date.now();
    await page.click('.upload-form button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('.grid .card').length === 50);
    timings.uploadTo50Cards = Date.now() - t;
    t = Date.now();
    await page.waitForFunction(
      () => [...document.querySelectorAll('.card-status')].every((s) => s.textContent === 'Done'),
      null,
      { timeout: 90_000, polling: 200 },
    );
    timings.uploadToAllDone = Date.now() - t + timings.uploadTo50Cards;

    t = Date.now();
    await page.click('text=Show on all');
    await page.waitForFunction(() => document.querySelectorAll('.heatmap-toggle[aria-pressed="true"]').length === 50);
    timings.showAllToggled = Date.now() - t;
    // The first rows (the rest load as they scroll into view).
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>('.card:nth-child(-n+10) .radiograph-heatmap')].every(
          (img) => !img.hidden && img.src.startsWith('blob:'),
        ),
      null,
      { timeout: 30_000 },
    );
    timings.showAllFirstTenHeatmapsVisible = Date.now() - t;
    await screenshot(page, '11-grid-50');

    t = Date.now();
    await page.selectOption('#sort-order', 'least-confident');
    await page.waitForFunction(() => {
      const values = [...document.querySelectorAll('.card .badge')].map((b) => parseFloat(b.textContent ?? ''));
      return values.length === 50 && values.every((v, i) => i === 0 || values[i - 1] <= v);
    });
    timings.sort50 = Date.now() - t;

    await page.locator('.card').first().click();
    t = Date.now();
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(
      () => document.querySelector('.card.selected') === document.querySelectorAll('.card')[10],
    );
    timings.keyboardTenSteps = Date.now() - t;

    // The page itself: how long the main thread is blocked by a full re-render of 50 cards.
    timings.renderFrameMs = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const start = performance.now();
          document.querySelector<HTMLButtonElement>('.sidebar button')?.click(); // Show on all: re-renders every card
          requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - start)));
        }),
    );
    expect(await page.locator('.card').count()).toBe(50);
    expect(await page.locator('.card.selected').getAttribute('data-instance-id')).toBe(
      await page.locator('.card').nth(10).getAttribute('data-instance-id'),
    );
  });
});

function predictionOf(instance: InstanceDto): PredictionDto {
  if (!instance.prediction) throw new Error(`${instance.filename} has no prediction (${instance.status})`);
  return instance.prediction;
}

function byName(study: StudyDto, filename: string): InstanceDto {
  const instance = study.instances.find((i) => i.filename === filename);
  if (!instance) throw new Error(`${filename} is not in study ${study.id}`);
  return instance;
}

/** The page renders once per animation frame: read until the expected value shows (10 s at most). */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  expect(last).toEqual(expected);
}

async function expectText(
  scope: Page | ReturnType<Page['locator']>,
  selector: string,
  text: string,
  timeoutMs = 10_000,
): Promise<void> {
  const locator = scope.locator(selector).first();
  await locator.waitFor();
  await eventually(
    async () => {
      const content = (await locator.textContent()) ?? '';
      return content.includes(text) ? text : content;
    },
    text,
    timeoutMs,
  );
}

/** Waits until exactly `count` heatmaps are laid over images (loaded as blob URLs and visible). */
async function expectHeatmaps(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll<HTMLImageElement>('.grid .radiograph-heatmap, .single .radiograph-heatmap')].filter(
        (img) => !img.hidden && img.src.startsWith('blob:') && img.offsetParent !== null,
      ).length === n,
    count,
    { timeout: 15_000 },
  );
}
