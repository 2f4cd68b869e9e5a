import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './graph-builder';

export interface Fp32Peak {
  /** GFLOP/s of wall time: what the machine gives now, other processes included. */
  wall: number;
  /** GFLOP per CPU-second: times the thread count, what an idle machine would give (spin-waiting makes it conservative). */
  perCpuSecond: number;
}

/**
 * The FP32 throughput ONNX Runtime reaches on this machine: an n^3 MatMul on `threads` threads,
 * best of `runs`. The denominator of the physical limit in the benchmarks.
 */
export async function measureFp32Peak(threads: number, n = 2048, runs = 5): Promise<Fp32Peak> {
  const g = new GraphBuilder();
  const a = g.input('a', [n, n]);
  const b = g.floats(
    'b',
    Float32Array.from({ length: n * n }, () => Math.random()),
    [n, n],
  );
  g.output(g.node('MatMul', [a, b], 'c'), 'c', [n, n]);
  const session = await ort.InferenceSession.create(g.encode('fp32_peak'), {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
  });
  try {
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * n }, () => Math.random()),
      [n, n],
    );
    await session.run({ a: input });
    const peak: Fp32Peak = { wall: 0, perCpuSecond: 0 };
    const gflop = (2 * n ** 3) / 1e9;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const cpu = process.cpuUsage();
      await session.run({ a: input });
      const used = process.cpuUsage(cpu);
      peak.wall = Math.max(peak.wall, gflop / ((performance.now() - start) / 1000));
      peak.perCpuSecond = Math.max(peak.perCpuSecond, gflop / ((used.user + used.system) / 1e6));
    }
    return peak;
  } finally {
    await session.release();
  }
}
