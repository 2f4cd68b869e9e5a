import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadModelPackage } from '@xray/ml';
import { writeTinyTestModelPackage } from '@xray/ml/testing';
import { nestedKeras2H5 } from '@xray/model-tools/testing';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..', '..');

async function xray(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ENGINE: 'tfjs' },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('xray classify / explain / import-keras (tiny random-weight test model)', () => {
  let dir: string;
  let model: string;
  let image: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-cli-ml-'));
    model = join(dir, 'model');
    await writeTinyTestModelPackage(model);
    image = join(dir, 'image.png');
    // A 90x60 gradient: not square, so the overlay must keep the image's own size.
    const pixels = Buffer.from(Array.from({ length: 90 * 60 }, (_, i) => (i % 90) * 2));
    await sharp(pixels, { raw: { width: 90, height: 60, channels: 1 } })
      .png()
      .toFile(image);
    await writeFile(join(dir, 'notes.txt'), 'not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('classify --json: one line per file, errors as {code, message}, exit code 1 when one failed', async () => {
    const result = await xray(['classify', '--model', model, '--json', image, join(dir, 'notes.txt')]);
    expect(result.code).toBe(1);
    const [ok, bad] = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ok).toMatchObject({
      file: image,
      label: expect.any(String),
      classIndex: expect.any(Number),
      band: expect.stringMatching(/green|orange|red/),
    });
    expect(ok.top5).toHaveLength(5);
    expect(ok.ms).toBeGreaterThanOrEqual(0);
    expect(bad).toEqual({
      file: join(dir, 'notes.txt'),
      error: { code: 'UNSUPPORTED_FORMAT', message: expect.any(String) },
    });
  }, 60_000);

  it('says clearly when the model package is missing', async () => {
    const result = await xray(['classify', '--model', join(dir, 'absent'), image]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no model package at .*absent: pass --model DIR/);
  }, 60_000);

  it('explain writes overlay and heatmap at the image resolution, an animation, and the raw map as JSON', async () => {
    const [overlay, heatmap, gif] = ['overlay.png', 'heatmap.png', 'blocks.gif'].map((f) => join(dir, f));
    const result = await xray([
      'explain',
      image,
      '--model',
      model,
      '--out',
      overlay,
      '--heatmap',
      heatmap,
      '--animate',
      gif,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout);
    expect(line).toMatchObject({ layer: 'conv2_relu', mapShape: [16, 16], overlay, heatmap, animation: gif });
    expect(line.map).toHaveLength(16);
    expect(line.map[0]).toHaveLength(16);
    expect(Math.max(...line.map.flat())).toBeLessThanOrEqual(1);
    for (const png of [overlay, heatmap])
      expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 90, height: 60 });
    expect(await sharp(gif, { animated: true }).metadata()).toMatchObject({ format: 'gif', pages: 2 });
  }, 60_000);

  it('import-keras converts a nested Keras 2 model into a loadable package', async () => {
    const file = join(dir, 'nested.h5');
    await writeFile(file, await nestedKeras2H5());
    const labels = join(dir, 'labels.txt');
    await writeFile(labels, '0 first\n1 second\n2 third\n');
    const out = join(dir, 'imported');
    const result = await xray([
      'import-keras',
      file,
      '--out',
      out,
      '--labels',
      labels,
      '--target-layer',
      'conv_relu',
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      labels: ['first', 'second', 'third'],
      gradcam: { targetLayer: 'conv_relu' },
    });
    const pkg = await loadModelPackage(out);
    expect(pkg.model.getLayer('target_relu')).toBeDefined();
    pkg.model.dispose();
  }, 60_000);
});
