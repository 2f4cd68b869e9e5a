import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { renderAnimation, renderHeatmapPng, renderOverlayPng } from '@xray/ml';
import { XrayError } from '@xray/shared';
import { openEngine, prepareImage } from './classify';
import { DEFAULT_MODEL_DIR } from './serving-model';

interface ExplainOptions {
  model: string;
  layer?: string;
  out?: string;
  heatmap?: string;
  animate?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('Grad-CAM++ heatmap of why the model chose its label, on the original image (DICOM, PNG or JPEG).')
    .argument('<file>', 'image file')
    .option('--model <dir>', 'model package folder', DEFAULT_MODEL_DIR)
    .option('--layer <name>', "layer to explain (default: the model card's target layer)")
    .option(
      '--out <png>',
      'overlay PNG: the heatmap over the image at its own resolution (default <file name>.overlay.png when nothing else is asked)',
    )
    .option('--heatmap <png>', 'heatmap PNG (turbo colormap) at the image resolution')
    .option(
      '--animate <gif|webp>',
      "animated GIF/WebP of the maps across the card's animation layers (default for DenseNet/MobileNetV2: the last block of each of the last three stages)",
    )
    .option('--json', 'print the prediction and the raw map at the layer resolution (mapShape, map as nested arrays)')
    .action(async (file: string, options: ExplainOptions) => {
      const engine = await openEngine(options.model, Boolean(options.json));
      try {
        const started = performance.now();
        const { image, input } = await prepareImage(file, engine);
        const [prediction] = await engine.classify([input]);
        const cam = await engine.explain(input, { classIndex: prediction.classIndex, layer: options.layer });
        const spec = engine.card.preprocessing;
        const out =
          options.out ??
          (options.heatmap || options.animate || options.json ? undefined : `${path.basename(file)}.overlay.png`);
        if (out) await writeFile(out, await renderOverlayPng(cam, spec, image));
        if (options.heatmap) await writeFile(options.heatmap, await renderHeatmapPng(cam, spec, image));
        if (options.animate) {
          // The card's animation layers, else the known ones for DenseNet/MobileNetV2 networks: one backward pass
          // (on ONNX Runtime, gradcam.onnx's extra outputs), as the explain worker computes them.
          const depth = await engine.explainAcrossDepth(input, { classIndex: prediction.classIndex });
          const cams = depth.maps.filter((m) => depth.animationLayers.includes(m.layer));
          if (!cams.length)
            throw new XrayError('MODEL_INVALID', 'the model card lists no gradcam.animationLayers to animate');
          await writeFile(
            options.animate,
            await renderAnimation(cams, spec, image, {
              format: options.animate.toLowerCase().endsWith('.webp') ? 'webp' : 'gif',
            }),
          );
        }
        const [h, w] = cam.mapShape;
        const summary = {
          file,
          label: prediction.label,
          classIndex: prediction.classIndex,
          confidence: prediction.confidence,
          band: prediction.band,
          layer: cam.layer,
          overlay: out ?? null,
          heatmap: options.heatmap ?? null,
          animation: options.animate ?? null,
          ms: Math.round(performance.now() - started),
        };
        if (options.json) {
          const map = Array.from({ length: h }, (_, y) => Array.from(cam.map.subarray(y * w, (y + 1) * w)));
          process.stdout.write(`${JSON.stringify({ ...summary, mapShape: cam.mapShape, map })}\n`);
        } else {
          const written = [out, options.heatmap, options.animate].filter(Boolean).join(', ');
          process.stdout.write(
            `${file}: ${prediction.label} ${(100 * prediction.confidence).toFixed(1)}% (${prediction.band}), Grad-CAM++ at ${cam.layer} (${h}x${w}) -> ${written}\n`,
          );
        }
      } finally {
        await engine.dispose();
      }
    });
}
