/**
 * ONNX Runtime vs TensorFlow.js (wasm) vs PyTorch on DenseNet201 (random weights), per image:
 * forward and Grad-CAM++ at conv5_block32_concat, plus the machine's measured FP32 peak and the
 * physical limit it implies (the network's FLOPs / peak).
 *
 *   node -r @swc-node/register bench/ml/onnx.bench.ts [--size 256] [--batch 8] [--reps 3] [--no-tfjs]
 *
 * Not part of `npm test`. Other processes on the machine skew every figure: the load average is
 * printed with them, and the peak is measured in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BODY_PART_LABELS, DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import { createOnnxEngine, createTfjsEngine, initTfjsBackend, saveModelPackage, type InferenceEngine } from '@xray/ml';
import { denseNet201, exportOnnxPackage, forwardFlops, measureFp32Peak } from '@xray/model-tools';

const TARGET_LAYER = 'conv5_block32_concat';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const size = arg('size', 256);
const batch = arg('batch', 8);
const reps = arg('reps', 3);
const withTfjs = !process.argv.includes('--no-tfjs');
const threads = os.availableParallelism();
const silent = { info: () => undefined };

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

interface Timing {
  /** Wall ms per image. */
  wall: number;
  /** CPU ms per image (all threads of this process). */
  cpu: number;
}

/**
 * Median ms per image of forward and Grad-CAM++ after one warm-up each; the two alternate so
 * that a change in the machine's load hits both alike.
 */
async function measureEngine(
  engine: InferenceEngine & { explainBatch(inputs: Float32Array[]): Promise<unknown> },
  images: Float32Array[],
  runs: number,
) {
  const timed = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(cpu);
    return { wall: (performance.now() - start) / images.length, cpu: (used.user + used.system) / 1000 / images.length };
  };
  const forward: Timing[] = [];
  const gradcam: Timing[] = [];
  await engine.classify(images);
  await engine.explainBatch(images);
  for (let i = 0; i < runs; i++) {
    forward.push(await timed(() => engine.classify(images)));
    gradcam.push(await timed(() => engine.explainBatch(images)));
  }
  const summary = (t: Timing[]): Timing => ({ wall: median(t.map((x) => x.wall)), cpu: median(t.map((x) => x.cpu)) });
  return { forward: summary(forward), gradcam: summary(gradcam) };
}

function torchReference(): { forwardMs: number; gradcamMs: number; torch: string } | string {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status !== 0)
    return 'not installed (python3-torch, python3-torchvision)';
  const script = path.join(__dirname, 'torch-reference.py');
  const out = execFileSync(
    python,
    [script, 'densenet201', String(size), String(batch), String(reps), String(threads)],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop() as string);
}

function row(cells: Array<string | number>): string {
  return cells
    .map((c, i) => (typeof c === 'number' ? c.toFixed(1) : c).padStart(i === 0 ? 0 : 12).padEnd(i === 0 ? 28 : 0))
    .join('');
}

async function main(): Promise<void> {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`DenseNet201@${size}, batch ${batch}, ${reps} runs (median), ${threads} cores, load average ${load}`);
  await initTfjsBackend({ backend: 'cpu' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-onnx-bench-'));
  try {
    const model = denseNet201({ inputSize: size, classes: BODY_PART_LABELS.length });
    const flops = forwardFlops(model);
    await saveModelPackage(dir, model, {
      name: 'densenet201-bench',
      version: '0.0.0-bench',
      architecture: 'DenseNet201 + GAP + Dense(1024) + Dense(22), random weights (benchmark only)',
      preprocessing: { width: size, height: size, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
      labels: [...BODY_PART_LABELS],
      gradcam: { targetLayer: TARGET_LAYER },
      bands: DEFAULT_BAND_THRESHOLDS,
    });
    model.dispose();
    const start = performance.now();
    await exportOnnxPackage(dir);
    console.log(`export-onnx: ${((performance.now() - start) / 1000).toFixed(1)} s`);

    const images = Array.from({ length: batch }, () =>
      Float32Array.from({ length: size * size * 3 }, () => Math.random() * 2 - 1),
    );
    const peak = await measureFp32Peak(threads);
    const limit = (flops / (peak.wall * 1e9)) * 1000;
    const idlePeak = peak.perCpuSecond * threads;
    console.log(
      `FP32 peak (ORT MatMul 2048^3, ${threads} threads): ${peak.wall.toFixed(0)} GFLOP/s now, ${idlePeak.toFixed(0)} GFLOP/s idle estimate ` +
        `(GFLOP per CPU-second x threads); DenseNet201@${size}: ${(flops / 1e9).toFixed(2)} GFLOP/image`,
    );

    const results: Array<{ name: string; forward: Timing; gradcam: Timing }> = [];
    const onnx = await createOnnxEngine(dir, { threads, logger: silent });
    const ortTimes = await measureEngine(onnx, images, reps);
    await onnx.dispose();
    results.push({ name: `onnxruntime-node ${onnx.info.backend}`, ...ortTimes });

    if (withTfjs) {
      const tfjs = await createTfjsEngine(dir, { backend: 'wasm', threads, logger: silent });
      const tfjsTimes = await measureEngine(tfjs, images, Math.min(reps, 2));
      await tfjs.dispose();
      results.push({ name: `tfjs ${tfjs.info.backend} (${tfjs.info.threads} threads)`, ...tfjsTimes });
    }
    const torch = torchReference();
    const nan = Number.NaN;
    if (typeof torch !== 'string')
      results.push({
        name: `PyTorch ${torch.torch}`,
        forward: { wall: torch.forwardMs, cpu: nan },
        gradcam: { wall: torch.gradcamMs, cpu: nan },
      });

    // Idle estimate: CPU ms per image / threads (what the run would take with the cores to itself).
    const idle = (t: Timing) => (Number.isNaN(t.cpu) ? '-' : (t.cpu / threads).toFixed(1));
    console.log('');
    console.log(
      row(['ms per image (median)', 'forward', 'Grad-CAM++', 'GC/forward', 'fwd vs ORT', 'fwd idle*', 'GC idle*']),
    );
    const idleLimit = (flops / (idlePeak * 1e9)) * 1000;
    console.log(row(['physical limit (FLOPs/peak)', limit, '', '', '', idleLimit, '']));
    for (const r of results) {
      console.log(
        row([
          r.name,
          r.forward.wall,
          r.gradcam.wall,
          (r.gradcam.wall / r.forward.wall).toFixed(2),
          `${(r.forward.wall / ortTimes.forward.wall).toFixed(1)}x`,
          idle(r.forward),
          idle(r.gradcam),
        ]),
      );
    }
    if (typeof torch === 'string') console.log(`PyTorch: ${torch}`);
    console.log('* idle estimate: CPU time per image / threads (busy-waiting threads make it conservative)');
    console.log('');
    const idleForward = ortTimes.forward.cpu / threads;
    console.log(
      `ORT forward at ${((100 * limit) / ortTimes.forward.wall).toFixed(0)}% of the peak measured now, ` +
        `${((100 * idleLimit) / idleForward).toFixed(0)}% by CPU time. Targets (idle estimate): ` +
        `forward <= 45 ms/image: ${idleForward <= 45 ? 'met' : 'NOT met'} (${idleForward.toFixed(1)}); Grad-CAM++ <= 1.2x forward: ` +
        `${ortTimes.gradcam.cpu <= 1.2 * ortTimes.forward.cpu ? 'met' : 'NOT met'} (${(ortTimes.gradcam.cpu / ortTimes.forward.cpu).toFixed(2)}x)`,
    );
    console.log(
      `load average after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
