/**
 * End-to-end pipeline benchmark, once per inference engine:
 * `node -r @swc-node/register bench/pipeline/pipeline.bench.ts [studies] [concurrency] [--engines tfjs,onnx] [--arch densenet201]`
 * (defaults 30 studies, 4 in flight, both engines). The model package (MODEL_DIR when set, else
 * models/bodypart when present, else the tiny test model) is copied under tmp/ and exported to
 * ONNX there (the shipped package is never written to); `--arch densenet201` instead builds
 * DenseNet201@256 with the seed's head and random weights there (benchmark only: its
 * predictions mean nothing, and it is deleted afterwards). Then, for each engine, the three apps
 * start as processes (tools/testing system harness) with ENGINE set, one-image studies are
 * submitted (a ../shared UNIFESP radiograph when present, else a generated 384x384 PNG) and
 * each is measured from upload to its study.completed webhook. Reports studies/min, p50/p95
 * latency, the share of that time spent outside the model (queueing, storage, database, HTTP)
 * from the workers' own model timings (their /metrics), the mean time per job of each stage in each worker
 * (from their `job stages` debug logs), and the ONNX / tfjs throughput ratio. Then measures the
 * gateway's upload throughput alone (workers stopped) with autocannon.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { initTfjsBackend, saveModelPackage } from '@xray/ml';
import { writeTinyTestModelPackage } from '@xray/ml/testing';
import { denseNet201, exportOnnxPackage } from '@xray/model-tools';
import { sample } from '@xray/platform';
import { BODY_PART_LABELS, DEFAULT_BAND_THRESHOLDS } from '@xray/shared';
import { makePng, sharedPath, startSystem, WebhookReceiver, type RunningSystem } from '@xray/testing';

const args = process.argv.slice(2);
const enginesFlag = args.indexOf('--engines');
const ENGINES = (enginesFlag >= 0 ? args.splice(enginesFlag, 2)[1] : 'tfjs,onnx').split(',') as Array<'tfjs' | 'onnx'>;
const archFlag = args.indexOf('--arch');
const ARCH = archFlag >= 0 ? args.splice(archFlag, 2)[1] : 'package';
if (!['package', 'densenet201'].includes(ARCH)) throw new Error(`--arch: expected package or densenet201, got ${ARCH}`);
const STUDIES = Number(args[0] ?? 30);
const CONCURRENCY = Number(args[1] ?? 4);

type Image = { name: string; bytes: Buffer };
interface RunResult {
  studiesPerMin: number;
  p50: number;
  p95: number;
  modelMsPerStudy: number;
  outsideShare: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function sampleImage(): Promise<Image> {
  const dir = sharedPath('data', 'unifesp');
  if (existsSync(dir)) {
    const file = readdirSync(dir, { recursive: true })
      .map(String)
      .find((f) => f.endsWith('.png'));
    if (file) return { name: path.basename(file), bytes: readFileSync(path.join(dir, file)) };
  }
  return { name: 'generated.png', bytes: await makePng(384, 384) };
}

/** Model time so far (classify + Grad-CAM++, in ms), from the workers' `xray_model_seconds_total` on /metrics. */
async function modelMsSoFar(system: RunningSystem): Promise<number> {
  const phases = [
    ['inference-worker', 'classify'],
    ['explain-worker', 'explain'],
  ] as const;
  let total = 0;
  for (const [app, phase] of phases) {
    const text = await (await fetch(system.metricsUrl(app))).text();
    total += 1000 * (sample(text, 'xray_model_seconds_total', { phase }) ?? 0);
  }
  return total;
}

/** A copy of the package under tmp/ with its ONNX graphs (or the tiny test model, or DenseNet201, exported). */
async function preparePackage(work: string): Promise<{ dir: string; description: string }> {
  if (ARCH === 'densenet201') return denseNetPackage(path.join(work, 'densenet201'));
  const source = process.env.MODEL_DIR ?? (existsSync('models/bodypart') ? 'models/bodypart' : undefined);
  const dir = path.join(work, 'model');
  if (source) cpSync(source, dir, { recursive: true });
  else await writeTinyTestModelPackage(dir);
  const started = performance.now();
  await exportOnnxPackage(dir);
  const description = source
    ? `${source} (copied to ${dir}, ONNX exported in ${(performance.now() - started).toFixed(0)} ms)`
    : 'tiny test model (random weights)';
  return { dir, description };
}

/** DenseNet201@256 as the seed built it (GAP -> Dense(1024) -> Dense(22)), random weights, Grad-CAM++ at its last concat. */
async function denseNetPackage(dir: string): Promise<{ dir: string; description: string }> {
  await initTfjsBackend({ backend: 'cpu' });
  const started = performance.now();
  const model = denseNet201({ inputSize: 256, classes: BODY_PART_LABELS.length });
  await saveModelPackage(dir, model, {
    name: 'densenet201-bench',
    version: '0.0.0-bench',
    architecture: 'DenseNet201 + GAP + Dense(1024) + Dense(22), random weights (benchmark only)',
    preprocessing: { width: 256, height: 256, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
    labels: [...BODY_PART_LABELS],
    gradcam: { targetLayer: 'conv5_block32_concat' },
    bands: DEFAULT_BAND_THRESHOLDS,
  });
  model.dispose();
  await exportOnnxPackage(dir);
  return {
    dir,
    description: `DenseNet201@256, random weights (benchmark only; built and ONNX exported in ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  };
}

/** The three apps with ENGINE=`engine`: one warm-up study, then STUDIES studies, CONCURRENCY in flight. */
async function runEngine(
  engine: string,
  modelDir: string,
  image: Image,
  receiver: WebhookReceiver,
  after?: (system: RunningSystem, apiKey: string) => Promise<void>,
): Promise<RunResult> {
  const system = await startSystem({ modelDir, env: { LOG_LEVEL: 'debug', RATE_LIMIT_MAX: '0', ENGINE: engine } });
  try {
    const client = await system.createClient('bench');
    const runtimes = await Promise.all(
      (['inference-worker', 'explain-worker'] as const).map(
        async (app) => `${app} ${JSON.stringify((await system.readiness(app)).checks.model.detail)}`,
      ),
    );
    console.log(`ENGINE=${engine}: ${runtimes.join('; ')}`);
    const latencies: number[] = [];
    const submitOne = async (i: number) => {
      const form = new FormData();
      form.append('files', new Blob([new Uint8Array(image.bytes)]), image.name);
      form.append('callbackUrl', `${receiver.url}/bench-${engine}`);
      form.append('accessionNumber', `BENCH-${i}`);
      const t0 = performance.now();
      const res = await fetch(`${system.url}/v1/studies`, {
        method: 'POST',
        body: form,
        headers: { Authorization: `Bearer ${client.apiKey}` },
      });
      if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      await receiver.waitFor(
        `/bench-${engine}`,
        (calls) => calls.some((c) => c.body?.type === 'study.completed' && c.body.data.study.id === id),
        600_000,
      );
      latencies.push(performance.now() - t0);
    };
    await submitOne(-1); // warm-up (first model calls, connection pools)
    latencies.length = 0;
    const modelBefore = await modelMsSoFar(system);
    const logOffsets = Object.fromEntries(WORKERS.map((app) => [app, system.logs(app).length]));
    const cpuBefore = await cpuSeconds(system);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < STUDIES) await submitOne(next++);
      }),
    );
    const wallMs = performance.now() - t0;
    const cpuAfter = await cpuSeconds(system);
    const modelTotal = (await modelMsSoFar(system)) - modelBefore;
    const result = {
      studiesPerMin: (STUDIES / wallMs) * 60_000,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      modelMsPerStudy: modelTotal / STUDIES,
      outsideShare: 1 - modelTotal / latencies.reduce((a, b) => a + b, 0),
    };
    console.log(
      `ENGINE=${engine}: ${result.studiesPerMin.toFixed(1)} studies/min; latency upload -> study.completed p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms; ` +
        `model time ${result.modelMsPerStudy.toFixed(0)} ms per study (classify + Grad-CAM++); outside the model: ${(100 * result.outsideShare).toFixed(0)} % of the latency (load average ${loadavg()[0].toFixed(2)})`,
    );
    console.log(`ENGINE=${engine}: ${await jobBreakdown(system)}`);
    const cpuPerStudy = APPS.map((app, i) => `${app} ${((1000 * (cpuAfter[i] - cpuBefore[i])) / STUDIES).toFixed(0)}`);
    console.log(
      `ENGINE=${engine}: CPU ms per study (process CPU time, all threads; Postgres and Redis not included): ${cpuPerStudy.join(', ')}`,
    );
    for (const app of WORKERS)
      console.log(
        `ENGINE=${engine}: ${app} mean ms per job: ${stageBreakdown(system.logs(app).slice(logOffsets[app]))}`,
      );
    await after?.(system, client.apiKey);
    return result;
  } finally {
    await system.stop();
  }
}

const WORKERS = ['inference-worker', 'explain-worker'] as const;
const APPS = ['gateway', ...WORKERS] as const;

/** Each app's CPU seconds so far (user + system, every thread), from its /metrics. */
async function cpuSeconds(system: RunningSystem): Promise<number[]> {
  return Promise.all(
    APPS.map(
      async (app) =>
        sample(await (await fetch(system.metricsUrl(app))).text(), 'xray_process_cpu_seconds_total', {}) ?? NaN,
    ),
  );
}

/**
 * Mean wall time per job of each stage, from the workers' `job stages` logs. `classify` and
 * `explain` are the model thread calls as the job waits for them (batching, other jobs ahead in
 * the thread, then decode + model input + model + PNG rendering inside it); the stages inside
 * the thread are listed after them.
 */
function stageBreakdown(log: string): string {
  const totals: Record<string, number> = {};
  let jobs = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('"job stages"')) continue;
    jobs++;
    for (const [stage, ms] of Object.entries((JSON.parse(line) as { stages: Record<string, number> }).stages))
      totals[stage] = (totals[stage] ?? 0) + ms;
  }
  if (jobs === 0) return 'no job stages logged';
  return `${Object.entries(totals)
    .map(([stage, ms]) => `${stage} ${(ms / jobs).toFixed(1)}`)
    .join(', ')} (${jobs} jobs)`;
}

/** Mean job time and queue wait per queue, from the workers' /metrics (the warm-up study included). */
async function jobBreakdown(system: RunningSystem): Promise<string> {
  const parts: string[] = [];
  for (const [app, queue] of [
    ['inference-worker', 'inference'],
    ['explain-worker', 'explain'],
  ] as const) {
    const text = await (await fetch(system.metricsUrl(app))).text();
    const meanMs = (name: string, labels: Record<string, string>) => {
      const [sum, count] = [sample(text, `${name}_sum`, labels), sample(text, `${name}_count`, labels)];
      return sum !== undefined && count ? ((1000 * sum) / count).toFixed(0) : '?';
    };
    parts.push(
      `${queue} jobs ${meanMs('xray_job_duration_seconds', { queue, outcome: 'completed' })} ms each after ${meanMs('xray_job_queue_wait_seconds', { queue })} ms queued`,
    );
  }
  return parts.join('; ');
}

/** The gateway alone: the workers are stopped so they do not compete for the CPU. */
async function gatewayAlone(system: RunningSystem, apiKey: string, image: Image): Promise<void> {
  await system.kill('inference-worker', 'SIGTERM');
  await system.kill('explain-worker', 'SIGTERM');
  const boundary = 'benchboundary';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${image.name}"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    image.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const result = await autocannon({
    url: `${system.url}/v1/studies`,
    method: 'POST',
    connections: 8,
    duration: 10,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  });
  const ok = result['2xx'];
  console.log(
    `gateway upload alone (autocannon, 8 connections, 10 s, ${(image.bytes.length / 1024).toFixed(0)} KiB files): ${(ok / 10).toFixed(1)} uploads/s, ` +
      `${((ok * image.bytes.length) / 10 / 1024 / 1024).toFixed(1)} MiB/s, latency p50 ${result.latency.p50} ms, p97.5 ${result.latency.p97_5} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
  );
}

async function main(): Promise<void> {
  const work = path.resolve('tmp', `bench-pipeline-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const receiver = await new WebhookReceiver().start();
  try {
    const model = await preparePackage(work);
    const image = await sampleImage();
    console.log(
      `model: ${model.description}; image ${image.name} (${image.bytes.length} bytes); ${STUDIES} studies, ${CONCURRENCY} in flight; engines ${ENGINES.join(', ')}`,
    );
    console.log(
      `machine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (other processes share it: compare engines within one run)`,
    );
    const results: Partial<Record<string, RunResult>> = {};
    for (const [i, engine] of ENGINES.entries()) {
      const last = i === ENGINES.length - 1;
      results[engine] = await runEngine(
        engine,
        model.dir,
        image,
        receiver,
        last ? (system, key) => gatewayAlone(system, key, image) : undefined,
      );
    }
    const { onnx, tfjs } = results;
    if (onnx && tfjs) {
      console.log(
        `ONNX Runtime / tfjs end to end: ${(onnx.studiesPerMin / tfjs.studiesPerMin).toFixed(2)}x studies/min, ` +
          `${(tfjs.modelMsPerStudy / onnx.modelMsPerStudy).toFixed(2)}x less model time per study, p50 latency ${(tfjs.p50 / onnx.p50).toFixed(2)}x lower`,
      );
    }
  } finally {
    await receiver.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
