/**
 * TensorFlow.js (wasm, 1 and 2 threads) vs PyTorch on this machine, per image: forward and
 * Grad-CAM++ at batch 1 and 8, for DenseNet201 @ 256 (Grad-CAM++ at conv5_block32_concat) and
 * MobileNetV2 (alpha 1) @ 224 (at out_relu), random weights; peak RSS of each tfjs run.
 *
 *   node -r @swc-node/register bench/ml/tfjs.bench.ts [--reps 3] [--threads 1,2] [--no-torch]
 *
 * Each thread count runs in its own process (the wasm thread pool is fixed per process).
 * PyTorch: Debian's python3-torch/python3-torchvision through /usr/bin/python3, 2 threads.
 * Not part of `npm test`. Other processes on the machine skew every figure: the load average
 * is printed with them.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { gradCamPlusPlus, initTfjsBackend, splitModel } from '@xray/ml';
import { denseNet201, mobileNetV2 } from '@xray/model-tools';

interface Case {
  model: 'densenet201' | 'mobilenet_v2';
  size: number;
  layer: string;
  build: () => tf.LayersModel;
}

const CASES: Case[] = [
  {
    model: 'densenet201',
    size: 256,
    layer: 'conv5_block32_concat',
    build: () => denseNet201({ inputSize: 256, classes: 22, head: 'seed' }),
  },
  {
    model: 'mobilenet_v2',
    size: 224,
    layer: 'out_relu',
    build: () => mobileNetV2({ alpha: 1, inputSize: 224, classes: 22 }),
  },
];
const BATCHES = [1, 8];

interface Row {
  model: string;
  size: number;
  batch: number;
  threads: number;
  forwardMs: number;
  gradcamMs: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const reps = Number(option('reps', '3'));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median ms per image over `reps` runs after one warm-up. */
async function perImage(batch: number, run: () => Promise<void>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    await run();
    times.push((performance.now() - started) / batch);
  }
  return median(times);
}

/** Child process: one thread count, every case; prints JSON rows and the peak RSS. */
async function child(threads: number): Promise<void> {
  const info = await initTfjsBackend({ backend: 'wasm', threads });
  const rows: Row[] = [];
  for (const c of CASES) {
    const model = c.build();
    const split = splitModel(model, c.layer);
    for (const batch of BATCHES) {
      const x = tf.randomUniform([batch, c.size, c.size, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
      const forwardMs = await perImage(batch, async () => {
        const y = model.predict(x) as tf.Tensor;
        await y.data();
        y.dispose();
      });
      const gradcamMs = await perImage(batch, async () => {
        const cam = gradCamPlusPlus(split, x);
        await cam.maps.data();
        tf.dispose([cam.maps, cam.logits]);
      });
      x.dispose();
      rows.push({ model: c.model, size: c.size, batch, threads: info.threads, forwardMs, gradcamMs });
      console.error(JSON.stringify(rows[rows.length - 1]));
    }
    split.dispose();
    model.dispose();
  }
  process.stdout.write(`${JSON.stringify({ rows, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

function torchReference(
  c: Case,
  batch: number,
  threads: number,
): { forwardMs: number; gradcamMs: number; torch: string } | string {
  const script = path.join(__dirname, 'torch-reference.py');
  const result = spawnSync(
    '/usr/bin/python3',
    [script, c.model, String(c.size), String(batch), String(reps), String(threads)],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) return (result.stderr || result.error?.message || 'failed').trim().split('\n').pop()!;
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child(Number(option('threads', '1')));
  const threadCounts = option('threads', '1,2').split(',').map(Number);
  console.log(
    `machine: ${os.cpus()[0].model}, ${os.availableParallelism()} cores; load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const rows: Row[] = [];
  for (const threads of threadCounts) {
    const result = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', __filename, '--child', '--threads', String(threads), '--reps', String(reps)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      },
    );
    if (result.status !== 0) throw new Error(`tfjs run with ${threads} threads failed`);
    const out = JSON.parse(result.stdout.trim().split('\n').pop()!);
    rows.push(...out.rows);
    console.log(`tfjs wasm ${threads} thread(s): peak RSS ${out.peakRssMb.toFixed(0)} MB`);
  }
  const torchThreads = 2;
  console.log(
    '\nmodel         size batch | tfjs-wasm ms/img: fwd 1t   fwd 2t  (2t speed-up) | gradcam 1t gradcam 2t | torch fwd  gradcam | fastest tfjs/torch fwd  gradcam',
  );
  for (const c of CASES) {
    for (const batch of BATCHES) {
      const pick = (t: number) => rows.find((r) => r.model === c.model && r.batch === batch && r.threads === t);
      const [one, two] = [pick(1), pick(2)];
      const torch = process.argv.includes('--no-torch') ? 'skipped' : torchReference(c, batch, torchThreads);
      const f = (v: number | undefined) => (v === undefined ? '     -' : v.toFixed(1).padStart(8));
      // The faster tfjs configuration of this row against PyTorch.
      const fastest = [one, two].filter((r): r is Row => r !== undefined).sort((a, b) => a.forwardMs - b.forwardMs)[0];
      const ratio =
        typeof torch === 'string' || !fastest
          ? '   -        -'
          : `${(fastest.forwardMs / torch.forwardMs).toFixed(2).padStart(8)}x ${(fastest.gradcamMs / torch.gradcamMs).toFixed(2).padStart(7)}x (${fastest.threads}t)`;
      console.log(
        `${c.model.padEnd(13)} ${String(c.size).padStart(4)} ${String(batch).padStart(5)} | ${f(one?.forwardMs)} ${f(two?.forwardMs)} (${one && two ? (one.forwardMs / two.forwardMs).toFixed(2) : '-'}x) | ${f(one?.gradcamMs)} ${f(two?.gradcamMs)} | ` +
          `${typeof torch === 'string' ? `torch: ${torch}` : `${f(torch.forwardMs)} ${f(torch.gradcamMs)}`} | ${ratio}`,
      );
    }
  }
  console.log(
    `\nload average at end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (2 cores shared with other work: figures are upper bounds)`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
