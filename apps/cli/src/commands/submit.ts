import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import type { ApiError, StudyDto } from '@xray/shared';

interface SubmitOptions {
  url: string;
  key: string;
  wait?: boolean;
  callback?: string;
  priority?: string;
  accession?: string;
  json?: boolean;
  timeout: string;
}

/** A bar on a terminal, otherwise a plain line every 10 %. */
function progress(label: string, total: number, unit: string) {
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} ${unit}`, stream: process.stderr },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (v: number) => bar.update(v), stop: () => bar.stop() };
  }
  let lastTenth = -1;
  return {
    update: (v: number) => {
      const tenth = total ? Math.floor((v / total) * 10) : 10;
      if (tenth !== lastTenth) console.error(`${label}: ${v}/${total} ${unit}`);
      lastTenth = tenth;
    },
    stop: () => undefined,
  };
}

/** multipart/form-data streamed from disk, with the total length known up front (for the bar). */
function multipartBody(files: string[], fields: Record<string, string>) {
  const boundary = `xray-${randomBytes(12).toString('hex')}`;
  const parts: Array<Buffer | string> = [];
  for (const [name, value] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  for (const file of files) {
    const name = path.basename(file).replace(/"/g, '');
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const length = parts.reduce((sum, p) => sum + (typeof p === 'string' ? statSync(p).size : p.length), 0);
  async function* stream() {
    for (const part of parts) {
      if (typeof part === 'string') yield* createReadStream(part);
      else yield part;
    }
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, length, stream: () => Readable.from(stream()) };
}

async function upload(options: SubmitOptions, files: string[]): Promise<StudyDto> {
  const fields: Record<string, string> = {};
  if (options.callback) fields.callbackUrl = options.callback;
  if (options.priority) fields.priority = options.priority;
  if (options.accession) fields.accessionNumber = options.accession;
  const body = multipartBody(files, fields);
  const target = new URL('/v1/studies', options.url);
  const bar = progress('upload', body.length, 'bytes');
  let sent = 0;
  const counter = new PassThrough();
  counter.on('data', (chunk: Buffer) => bar.update((sent += chunk.length)));
  const transport = target.protocol === 'https:' ? https : http;
  const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.key}`,
          'Content-Type': body.contentType,
          'Content-Length': body.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    pipeline(body.stream(), counter, req).catch(reject);
  });
  bar.stop();
  return parseResponse(response.status, response.text) as StudyDto;
}

function parseResponse(status: number, text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the gateway answered HTTP ${status}: ${text.slice(0, 200)}`);
  }
  if (status >= 400) {
    const { error } = json as ApiError;
    throw new Error(`${error?.code ?? status}: ${error?.message ?? text}`);
  }
  return json;
}

async function waitFor(options: SubmitOptions, study: StudyDto): Promise<StudyDto> {
  const finished = (s: StudyDto) => s.instances.filter((i) => i.status === 'done' || i.status === 'failed').length;
  const bar = progress('processing', study.instances.length, 'images');
  const deadline = Date.now() + Number(options.timeout) * 1000;
  let current = study;
  while (current.status !== 'done' && current.status !== 'failed') {
    if (Date.now() > deadline) {
      bar.stop();
      throw new Error(`study ${study.id} not finished after ${options.timeout} s (status ${current.status})`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const res = await fetch(new URL(`/v1/studies/${study.id}`, options.url), {
      headers: { Authorization: `Bearer ${options.key}` },
    });
    current = parseResponse(res.status, await res.text()) as StudyDto;
    bar.update(finished(current));
  }
  bar.stop();
  return current;
}

function printStudy(study: StudyDto): void {
  console.log(`study ${study.id}: ${study.status}`);
  for (const i of study.instances) {
    const result = i.prediction
      ? `${i.prediction.label} ${(i.prediction.confidence * 100).toFixed(1)}% (${i.prediction.band})`
      : i.error
        ? `failed: ${i.error.code} ${i.error.message}`
        : i.status;
    console.log(`  ${i.filename}: ${result}`);
  }
}

/** `xray submit`: sends files as one study, like a hospital system would, and prints the results. */
export function register(program: Command): void {
  program
    .command('submit')
    .description('submit images (DICOM, PNG, JPEG) to a gateway as one study')
    .argument('<files...>', 'image files')
    .requiredOption('--url <url>', 'gateway URL, e.g. http://localhost:3000')
    .requiredOption('--key <key>', 'API key')
    .option('--wait', 'wait until every image is classified and explained, then print the results')
    .option('--callback <url>', 'webhook URL for study.classified / study.completed')
    .option('--priority <priority>', 'routine or stat')
    .option('--accession <number>', 'accession number')
    .option('--timeout <seconds>', 'with --wait: give up after this long', '600')
    .option('--json', 'print the study as JSON')
    .action(async (files: string[], options: SubmitOptions) => {
      let study = await upload(options, files);
      if (!options.json) console.error(`submitted study ${study.id} (${study.instances.length} images)`);
      if (options.wait) study = await waitFor(options, study);
      if (options.json) console.log(JSON.stringify(study, null, 2));
      else printStudy(study);
      if (study.status === 'failed') process.exitCode = 1;
    });
}
