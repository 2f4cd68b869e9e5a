import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { decodeImage, findTransferSyntax, renderPng, type DecodedImage } from '@xray/imaging';
import { isXrayError, type ErrorCode } from '@xray/shared';

export interface InspectOptions {
  png?: string;
  json?: boolean;
}

export interface InspectResult {
  file: string;
  ok: boolean;
  format?: DecodedImage['format'];
  transferSyntaxUid?: string;
  transferSyntax?: string;
  sizeBytes?: number;
  width?: number;
  height?: number;
  photometricInterpretation?: string;
  window?: DecodedImage['window'];
  decodeMs?: number;
  png?: string;
  error?: { code: ErrorCode; message: string };
}

async function inspectOne(file: string, options: InspectOptions, pngNames: Set<string>): Promise<InspectResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return {
      file,
      ok: false,
      error: { code: 'NOT_FOUND', message: `Cannot read ${file}: ${(error as Error).message}` },
    };
  }
  try {
    const image = await decodeImage(bytes);
    const uid = image.metadata.transferSyntaxUid;
    const result: InspectResult = {
      file,
      ok: true,
      format: image.format,
      ...(uid ? { transferSyntaxUid: uid, transferSyntax: findTransferSyntax(uid)?.name ?? uid } : {}),
      sizeBytes: bytes.length,
      width: image.width,
      height: image.height,
      photometricInterpretation: image.metadata.photometricInterpretation,
      window: image.window,
      decodeMs: Math.round(image.decodeMs * 10) / 10,
    };
    if (options.png) result.png = await writeRendering(image, file, options.png, pngNames);
    return result;
  } catch (error) {
    if (isXrayError(error)) return { file, ok: false, error: error.toJSON() };
    return {
      file,
      ok: false,
      error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
    };
  }
}

/** OUT_DIR/<file name>.png, numbered when two inputs share a name. */
async function writeRendering(image: DecodedImage, file: string, outDir: string, used: Set<string>): Promise<string> {
  const base = path.basename(file);
  let name = `${base}.png`;
  for (let n = 2; used.has(name); n++) name = `${base}-${n}.png`;
  used.add(name);
  await mkdir(outDir, { recursive: true });
  const target = path.join(outDir, name);
  await writeFile(target, await renderPng(image));
  return target;
}

function describe(r: InspectResult): string {
  if (!r.ok) return `${r.file}: ERROR ${r.error?.code}: ${r.error?.message}`;
  const syntax = r.transferSyntaxUid ? `, ${r.transferSyntax} (${r.transferSyntaxUid})` : '';
  const window = r.window ? `window ${r.window.center}/${r.window.width} (${r.window.source})` : 'no window';
  const photometric = r.photometricInterpretation ? `, ${r.photometricInterpretation}` : '';
  const png = r.png ? ` -> ${r.png}` : '';
  return `${r.file}: ${r.format}${syntax}, ${r.width}x${r.height}${photometric}, ${r.sizeBytes} bytes, ${window}, decoded in ${r.decodeMs} ms${png}`;
}

/** Inspects each file in turn, printing one line (or JSON object) per file as it finishes. */
export async function inspectFiles(
  files: string[],
  options: InspectOptions,
  print: (line: string) => void = console.log,
): Promise<InspectResult[]> {
  const results: InspectResult[] = [];
  const pngNames = new Set<string>();
  for (const file of files) {
    const result = await inspectOne(file, options, pngNames);
    print(options.json ? JSON.stringify(result) : describe(result));
    results.push(result);
  }
  return results;
}

/**
 * The per-file lines are the progress on a terminal. When they go to a file or a pipe and
 * stderr is a terminal, a bar on stderr shows how far the run is.
 */
function progressBar(total: number): { tick: () => void; stop: () => void } {
  if (process.stdout.isTTY || !process.stderr.isTTY || total < 2)
    return { tick: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { format: 'inspect [{bar}] {value}/{total} files', stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description(
      'Decode images (DICOM, PNG, JPEG) and report format, transfer syntax, size, photometric interpretation, window and decode time',
    )
    .argument('<files...>', 'image files')
    .option('--png <outDir>', 'write the rendered 8-bit images as PNG into this folder')
    .option('--json', 'print one JSON object per line')
    .action(async (files: string[], options: InspectOptions) => {
      const bar = progressBar(files.length);
      const results = await inspectFiles(files, options, (line) => {
        console.log(line);
        bar.tick();
      });
      bar.stop();
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });
}
