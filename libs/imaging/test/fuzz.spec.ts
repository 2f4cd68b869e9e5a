import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeWithShared, sharedPath } from '@xray/testing';
import { planCases, type FuzzCase } from './mutations';
import { compressedVariants, nativeVariants, rasterVariants } from './sample-images';

const SEED = 20260427;
/** A case that has not finished after this long counts as a hang. */
const CASE_TIMEOUT_MS = 10_000;
const ALLOWED = new Set([
  'decoded',
  'UNSUPPORTED_FORMAT',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'NOT_AN_IMAGE',
  'CORRUPT_FILE',
]);

interface Source {
  name: string;
  bytes: Uint8Array;
  weight: number;
}

/** Runs the cases in a worker; rejects on a hang (watchdog) or a dead worker. */
function runCases(sources: Source[], cases: FuzzCase[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const outcomes: string[] = new Array(cases.length);
    const worker = new Worker(
      `require(${JSON.stringify(require.resolve('@swc-node/register'))}); require(${JSON.stringify(join(__dirname, 'fuzz-worker.ts'))});`,
      {
        eval: true,
        workerData: { sources: sources.map(({ name, bytes }) => ({ name, bytes })), cases },
        // The worker compiles TypeScript itself; the root tsconfig gives it the @xray/* paths.
        env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '..', '..', '..', 'tsconfig.json') },
      },
    );
    let watchdog: NodeJS.Timeout | undefined;
    const describeCase = (i: number) =>
      `case ${i} (${sources[cases[i].source].name}, ${cases[i].kind}, seed ${cases[i].seed})`;
    worker.on('message', (m: { type: 'start' | 'done'; index: number; outcome?: string }) => {
      clearTimeout(watchdog);
      if (m.type === 'start') {
        watchdog = setTimeout(() => {
          void worker.terminate();
          reject(new Error(`${describeCase(m.index)} did not finish within ${CASE_TIMEOUT_MS} ms`));
        }, CASE_TIMEOUT_MS);
        return;
      }
      outcomes[m.index] = m.outcome ?? 'no outcome';
      if (m.index === cases.length - 1) {
        void worker.terminate();
        resolve(outcomes);
      }
    });
    worker.on('error', (error: Error) => reject(new Error(`the decoder crashed its thread: ${error.message}`)));
    worker.on('exit', (code) => {
      clearTimeout(watchdog);
      if (outcomes.filter(Boolean).length < cases.length)
        reject(new Error(`worker exited (${code}) after ${outcomes.filter(Boolean).length} cases`));
    });
  });
}

function expectOnlyTypedOutcomes(sources: Source[], cases: FuzzCase[], outcomes: string[]): void {
  const untyped = outcomes.flatMap((outcome, i) =>
    ALLOWED.has(outcome) ? [] : [`${sources[cases[i].source].name} ${cases[i].kind} seed ${cases[i].seed}: ${outcome}`],
  );
  expect(untyped).toEqual([]);
  // The corruptions must really exercise both paths.
  expect(outcomes.filter((o) => o === 'decoded').length).toBeGreaterThan(cases.length * 0.05);
  expect(outcomes.filter((o) => o === 'CORRUPT_FILE').length).toBeGreaterThan(cases.length * 0.2);
}

describe('fuzz: generated images (no ../shared needed)', () => {
  it('600 truncated and bit-flipped variants end decoded or with a typed error, none hangs', async () => {
    const sources: Source[] = [...nativeVariants(), ...(await compressedVariants()), ...(await rasterVariants())].map(
      ([name, bytes]) => ({ name, bytes, weight: 1 }),
    );
    const cases = planCases(
      SEED,
      600,
      sources.map((s) => s.weight),
    );
    expectOnlyTypedOutcomes(sources, cases, await runCases(sources, cases));
  }, 120_000);
});

const REAL_FILES: Array<[string, number]> = [
  ['data/dicom/pydicom/MR_small.dcm', 2],
  ['data/dicom/pydicom/MR_small_implicit.dcm', 1],
  ['data/dicom/pydicom/MR_small_bigendian.dcm', 1],
  ['data/dicom/pydicom/MR_small_RLE.dcm', 2],
  ['data/dicom/pydicom/MR_small_jp2klossless.dcm', 2],
  ['data/dicom/pydicom/MR_small_jpeg_ls_lossless.dcm', 2],
  ['data/dicom/pydicom/JPEG-lossy.dcm', 2], // JPEG extended 12-bit
  ['data/dicom/pydicom/JPEG2000.dcm', 2],
  ['data/dicom/pydicom/SC_rgb_jpeg_dcmtk.dcm', 2],
  ['data/dicom/pydicom/SC_rgb_rle.dcm', 1],
  ['data/dicom/pydicom/image_dfl.dcm', 2], // deflated
  ['data/dicom/pydicom/emri_small_jpeg_2k_lossless.dcm', 1], // multi-frame
  ['data/dicom/pydicom/CT_small.dcm', 1],
  ['data/dicom/pydicom/rtplan.dcm', 1],
  ['data/dicom/pydicom/vlut_04.dcm', 0.3],
  ['data/dicom/wg04/RG3_JPLY', 0.3], // 1760x1760 radiograph: few cases, they are slower
];

describeWithShared('fuzz: real files', ['data/dicom/pydicom', 'data/dicom/wg04'], () => {
  it('1,000 truncated and bit-flipped variants end decoded or with a typed error, none hangs', async () => {
    const sources: Source[] = REAL_FILES.filter(([rel]) => existsSync(sharedPath(rel))).map(([rel, weight]) => ({
      name: rel.slice(rel.lastIndexOf('/') + 1),
      bytes: new Uint8Array(readFileSync(sharedPath(rel))),
      weight,
    }));
    const cases = planCases(
      SEED + 1,
      1000,
      sources.map((s) => s.weight),
    );
    const started = Date.now();
    const outcomes = await runCases(sources, cases);
    expectOnlyTypedOutcomes(sources, cases, outcomes);
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
    process.stdout.write(`fuzz: ${cases.length} cases in ${Date.now() - started} ms: ${JSON.stringify(counts)}\n`);
  }, 180_000);
});
