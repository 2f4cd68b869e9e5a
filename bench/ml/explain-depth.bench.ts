/**
 * What the maps across depth cost the explain worker, per instance, on a model package
 * (default models/bodypart), for each engine: the CPU time (all of the process's threads) of
 * the worker's per-instance work without them (decode, model input, Grad-CAM++ at the target
 * layer, heatmap and overlay PNGs) and with them (Grad-CAM++ at the target and animation layers
 * in one pass, the same PNGs, and the layer-maps object).
 *
 *   node -r @swc-node/register bench/ml/explain-depth.bench.ts [--model DIR] [--images 20] [--engines tfjs,onnx]
 *
 * The package is copied under tmp/ and exported to ONNX there (so the figure holds for a
 * gradcam.onnx with the extra outputs whatever the package holds). Images: ../shared UNIFESP
 * PNGs when present, else generated ones. Rounds alternate with / without so that the load of
 * other processes hits both alike; the load average is printed. Not part of `npm test`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage, toModelInput } from '@xray/imaging';
import {
  createOnnxEngine,
  createTfjsEngine,
  encodeLayerMaps,
  renderHeatmapPng,
  renderOverlayPng,
  type InferenceEngine,
} from '@xray/ml';
import { exportOnnxPackage } from '@xray/model-tools';
import { makePng, sharedPath } from '@xray/testing';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const modelDir = path.resolve(arg('model', 'models/bodypart'));
const imageCount = Number(arg('images', '20'));
const engines = arg('engines', 'tfjs,onnx').split(',') as Array<'tfjs' | 'onnx'>;
const silent = { info: () => undefined };

async function images(): Promise<Buffer[]> {
  const dir = sharedPath('data', 'unifesp');
  if (fs.existsSync(dir)) {
    const files = fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.png'))
      .sort()
      .slice(0, imageCount);
    if (files.length) return files.map((f) => fs.readFileSync(path.join(dir, f)));
  }
  return Promise.all(Array.from({ length: imageCount }, () => makePng(512, 512)));
}

/** The explain worker's model-thread and render-thread work for one instance. */
async function explainOne(engine: InferenceEngine, bytes: Buffer, acrossDepth: boolean): Promise<number> {
  const image = await decodeImage(bytes);
  const spec = engine.card.preprocessing;
  const input = await toModelInput(image, spec);
  let cam;
  let extraBytes = 0;
  if (acrossDepth) {
    const depth = await engine.explainAcrossDepth(input);
    cam = depth.maps.find((m) => m.layer === depth.targetLayer)!;
    extraBytes = encodeLayerMaps(depth, image, spec).byteLength;
  } else {
    cam = await engine.explain(input);
  }
  await Promise.all([renderHeatmapPng(cam, spec, image), renderOverlayPng(cam, spec, image)]);
  return extraBytes;
}

async function cpuMsPerImage(engine: InferenceEngine, inputs: Buffer[], acrossDepth: boolean) {
  const started = process.cpuUsage();
  const wallStarted = performance.now();
  let bytes = 0;
  for (const image of inputs) bytes += await explainOne(engine, image, acrossDepth);
  const used = process.cpuUsage(started);
  return {
    cpu: (used.user + used.system) / 1000 / inputs.length,
    wall: (performance.now() - wallStarted) / inputs.length,
    bytes: bytes / inputs.length,
  };
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(path.resolve('tmp'), 'explain-depth-'));
  fs.mkdirSync(path.dirname(work), { recursive: true });
  try {
    fs.cpSync(modelDir, work, { recursive: true });
    await exportOnnxPackage(work);
    const inputs = await images();
    console.log(`model ${modelDir}, ${inputs.length} images, ${os.availableParallelism()} cores`);
    for (const kind of engines) {
      const engine =
        kind === 'onnx'
          ? await createOnnxEngine(work, { logger: silent })
          : await createTfjsEngine(work, { logger: silent });
      try {
        const depth = await engine.explainAcrossDepth(
          await toModelInput(await decodeImage(inputs[0]), engine.card.preprocessing),
        );
        const layers = depth.maps.map((m) => `${m.layer} ${m.mapShape.join('x')}`).join(', ');
        await explainOne(engine, inputs[0], false); // warm-up
        const runs = {
          without: [] as number[],
          with: [] as number[],
          wallWithout: [] as number[],
          wallWith: [] as number[],
        };
        let bytes = 0;
        for (let round = 0; round < 2; round++) {
          const off = await cpuMsPerImage(engine, inputs, false);
          const on = await cpuMsPerImage(engine, inputs, true);
          runs.without.push(off.cpu);
          runs.with.push(on.cpu);
          runs.wallWithout.push(off.wall);
          runs.wallWith.push(on.wall);
          bytes = on.bytes;
        }
        const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
        const [without, withDepth] = [mean(runs.without), mean(runs.with)];
        console.log(
          `${kind} (${engine.info.backend}, ${engine.info.threads} threads) layers: ${layers}\n` +
            `  CPU ms per instance: without ${without.toFixed(1)}, with ${withDepth.toFixed(1)} ` +
            `(+${(100 * (withDepth / without - 1)).toFixed(1)} %); wall ms ${mean(runs.wallWithout).toFixed(1)} -> ` +
            `${mean(runs.wallWith).toFixed(1)}; layer-maps object ${Math.round(bytes)} bytes; load ${os
              .loadavg()
              .map((l) => l.toFixed(1))
              .join(' ')}`,
        );
      } finally {
        await engine.dispose();
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
