import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { decodeImage, toModelInput, type DecodedImage } from '@xray/imaging';
import { createEngine, type InferenceEngine, OUT_OF_DISTRIBUTION } from '@xray/ml';
import { XrayError } from '@xray/shared';
import { progressDisplay } from './progress-display';
import { configuredEngine, DEFAULT_MODEL_DIR } from './serving-model';

/** Opens the model package with the configured engine (ENGINE=onnx|tfjs|auto), with a clear error when absent. */
export async function openEngine(modelDir: string, quiet: boolean): Promise<InferenceEngine> {
  if (!existsSync(path.join(modelDir, 'model-card.json'))) {
    throw new XrayError(
      'MODEL_NOT_FOUND',
      `no model package at ${modelDir}: pass --model DIR (a folder with model-card.json, e.g. written by \`xray train\` or \`xray import-keras\`)`,
    );
  }
  return createEngine(modelDir, {
    engine: configuredEngine(),
    logger: {
      info: (f: any) =>
        quiet ||
        process.stderr.write(
          `model ${f.modelName} ${f.modelVersion} on ${f.engine}/${f.backend}, ${f.threads} threads, sha256 ${String(f.modelSha256).slice(0, 12)}\n`,
        ),
    },
  });
}

/** File -> decoded image (DICOM, PNG or JPEG, by content) and the model's input tensor. */
export async function prepareImage(
  file: string,
  engine: InferenceEngine,
): Promise<{ image: DecodedImage; input: Float32Array }> {
  const image = await decodeImage(await readFile(file));
  return { image, input: await toModelInput(image, engine.card.preprocessing) };
}

export function errorJson(error: unknown): { code: string; message: string } {
  if (error instanceof XrayError) return error.toJSON();
  const code = (error as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'NOT_FOUND' : 'INTERNAL';
  return { code, message: error instanceof Error ? error.message : String(error) };
}

interface ClassifyOptions {
  model: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('classify')
    .description('Classify radiographs (DICOM, PNG or JPEG) by body part: label, confidence band and top 5.')
    .argument('<files...>', 'image files')
    .option('--model <dir>', 'model package folder', DEFAULT_MODEL_DIR)
    .option(
      '--json',
      'one JSON line per file: file, label, classIndex, confidence, band, top5, ood and warnings (when the model has an OOD model), ms (or file + error)',
    )
    .action(async (files: string[], options: ClassifyOptions) => {
      const engine = await openEngine(options.model, Boolean(options.json));
      const progress = files.length > 1 ? progressDisplay('classify') : undefined;
      let failed = 0;
      try {
        for (const [i, file] of files.entries()) {
          const started = performance.now();
          let line: Record<string, unknown>;
          try {
            const { input } = await prepareImage(file, engine);
            const [r] = await engine.classify([input]);
            line = {
              file,
              label: r.label,
              classIndex: r.classIndex,
              confidence: r.confidence,
              band: r.band,
              top5: r.top5,
              ...(r.ood ? { ood: r.ood, warnings: r.ood.outOfDistribution ? [OUT_OF_DISTRIBUTION] : [] } : {}),
              ms: Math.round(performance.now() - started),
            };
          } catch (error) {
            failed++;
            line = { file, error: errorJson(error) };
          }
          progress?.update(i + 1, files.length);
          process.stdout.write(options.json ? `${JSON.stringify(line)}\n` : `${humanLine(line)}\n`);
        }
      } finally {
        progress?.stop();
        await engine.dispose();
      }
      if (failed) process.exitCode = 1;
    });
}

function humanLine(line: Record<string, any>): string {
  if (line.error) return `${line.file}: error ${line.error.code}: ${line.error.message}`;
  const others = (line.top5 as Array<{ label: string; probability: number }>)
    .slice(1, 3)
    .map((t) => `${t.label} ${(100 * t.probability).toFixed(1)}%`);
  const ood = line.ood?.outOfDistribution
    ? `; WARNING ${OUT_OF_DISTRIBUTION} (score ${line.ood.score.toFixed(2)} > ${line.ood.threshold.toFixed(2)}): not a radiograph?`
    : '';
  return `${line.file}: ${line.label} ${(100 * line.confidence).toFixed(1)}% (${line.band}); next: ${others.join(', ')}${ood}; ${line.ms} ms`;
}
