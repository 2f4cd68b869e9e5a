/**
 * Decode + resize time per transfer syntax for the NEMA WG04 RG2 hip radiograph (2140x1760,
 * 10-bit): `node -r @swc-node/register bench/imaging/decode.bench.ts [runs]`.
 * Needs ../shared/data/dicom/wg04. Reports the median of `runs` (default 7) after one warm-up
 * (the warm-up pays the one-off WebAssembly start). "cpu ms" is the process CPU time of decode +
 * resize (all threads): on a shared, loaded machine it moves much less than wall time.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { PreprocessingSpec } from '@xray/shared';
import { decodeImage, findTransferSyntax, toModelInput } from '@xray/imaging';
import { missingShared, sharedPath } from '@xray/testing';

/** The model card's input: MobileNetV2 224x224 RGB in [-1, 1]. */
const SPEC: PreprocessingSpec = { width: 224, height: 224, channels: 3, normalization: 'minus1to1', resize: 'stretch' };

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<void> {
  if (missingShared(['data/dicom/wg04']).length > 0) {
    console.error('bench/imaging: ../shared/data/dicom/wg04 is absent; nothing to measure.');
    process.exitCode = 2;
    return;
  }
  const runs = Number(process.argv[2] ?? 7);
  const files = readdirSync(sharedPath('data/dicom/wg04'))
    .filter((f) => f.startsWith('RG2_'))
    .sort();
  console.log(
    `decode + resize to ${SPEC.width}x${SPEC.height}, median of ${runs} runs; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`,
  );
  console.log('file       transfer syntax                     size KB  decode ms  resize ms  total ms  cpu ms');
  for (const file of files) {
    const bytes = readFileSync(sharedPath('data/dicom/wg04', file));
    const decodeTimes: number[] = [];
    const resizeTimes: number[] = [];
    const cpuTimes: number[] = [];
    for (let run = 0; run <= runs; run++) {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const image = await decodeImage(bytes);
      const t1 = performance.now();
      await toModelInput(image, SPEC);
      const t2 = performance.now();
      const used = process.cpuUsage(cpu);
      if (run === 0) continue; // warm-up
      decodeTimes.push(t1 - t0);
      resizeTimes.push(t2 - t1);
      cpuTimes.push((used.user + used.system) / 1000);
    }
    const uid = (await decodeImage(bytes)).metadata.transferSyntaxUid ?? '';
    const name = findTransferSyntax(uid)?.name ?? uid;
    const [d, r, c] = [median(decodeTimes), median(resizeTimes), median(cpuTimes)];
    console.log(
      `${file.padEnd(10)} ${name.padEnd(35)} ${String(Math.round(bytes.length / 1024)).padStart(7)}  ${d.toFixed(0).padStart(9)}  ${r.toFixed(0).padStart(9)}  ${(d + r).toFixed(0).padStart(8)}  ${c.toFixed(0).padStart(6)}`,
    );
  }
}

void main();
