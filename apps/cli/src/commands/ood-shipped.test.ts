/** @jest-environment <rootDir>/../../libs/model-tools/testing/ort-environment.js */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithShared, sharedPath } from '@xray/testing';
import { runCli } from '../testing/run-cli';

const MODEL_DIR = join(__dirname, '..', '..', '..', '..', 'models', 'bodypart');
/** Photos and drawings that no radiograph model has seen: the Debian package python3-skimage (CI installs it). */
const SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data';

interface ClassifyLine {
  file: string;
  label?: string;
  ood?: { score: number; threshold: number; outOfDistribution: boolean };
  warnings?: string[];
  error?: { code: string };
}

/** `xray classify --json` on the shipped model (ENGINE=auto: the ONNX graph). */
async function classify(files: string[]): Promise<ClassifyLine[]> {
  try {
    const printed = await runCli(['classify', '--model', MODEL_DIR, '--json', ...files]);
    return printed
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ClassifyLine);
  } finally {
    process.exitCode = undefined; // files that fail to decode set it; they are counted below
  }
}

const flaggedShare = (lines: ClassifyLine[]) =>
  lines.filter((l) => l.ood?.outOfDistribution).length / Math.max(1, lines.length);

describe('shipped model: out-of-distribution warning', () => {
  it('flags photos and drawings (python3-skimage data set)', async () => {
    if (!existsSync(SKIMAGE_DATA)) {
      throw new Error(
        `${SKIMAGE_DATA} is missing: install the Debian package python3-skimage (apt-get install -y python3-skimage)`,
      );
    }
    const files = readdirSync(SKIMAGE_DATA)
      .filter((f) => /\.(png|jpg)$/.test(f))
      .map((f) => join(SKIMAGE_DATA, f));
    expect(files.length).toBeGreaterThanOrEqual(30);
    const lines = (await classify(files)).filter((l) => !l.error); // truncated.jpg is cut short on purpose
    expect(lines.length).toBeGreaterThanOrEqual(30);
    const flagged = lines.filter((l) => l.ood?.outOfDistribution);
    expect(flagged.length / lines.length).toBeGreaterThanOrEqual(0.9);
    for (const line of flagged) expect(line.warnings).toEqual(['out-of-distribution']);
  }, 120_000);

  describeWithShared('on DICOM', ['data/dicom/pydicom', 'data/dicom/wg04'], () => {
    it('flags CT, MR, ultrasound, nuclear medicine and colour secondary captures', async () => {
      const dir = sharedPath('data/dicom/pydicom');
      const lines = (
        await classify(
          readdirSync(dir)
            .filter((f) => f.endsWith('.dcm'))
            .map((f) => join(dir, f)),
        )
      ).filter(
        (l) => !l.error, // pydicom's malformed and non-image objects (RT plans, truncated files)
      );
      expect(lines.length).toBeGreaterThanOrEqual(90);
      expect(flaggedShare(lines)).toBeGreaterThanOrEqual(0.9);
    }, 180_000);

    it('does not flag radiographs from another source (NEMA WG04 chest, hip, lower leg)', async () => {
      const dir = sharedPath('data/dicom/wg04');
      const lines = await classify(readdirSync(dir).map((f) => join(dir, f)));
      expect(lines.filter((l) => !l.error).length).toBeGreaterThanOrEqual(15);
      expect(lines.filter((l) => l.ood?.outOfDistribution)).toEqual([]);
      expect(lines.every((l) => l.error || (l.warnings ?? []).length === 0)).toBe(true);
    }, 120_000);
  });
});
