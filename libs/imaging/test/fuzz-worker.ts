/**
 * Runs in a worker thread so that the test can kill it when a case hangs (synchronous code,
 * WebAssembly included, cannot be interrupted from its own thread) or crashes the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isXrayError } from '@xray/shared';
import { decodeImage } from '../src';
import { mutate, type FuzzCase } from './mutations';

interface Job {
  sources: Array<{ name: string; bytes: Uint8Array }>;
  cases: FuzzCase[];
}

async function main(): Promise<void> {
  const { sources, cases } = workerData as Job;
  const port = parentPort;
  if (!port) throw new Error('fuzz-worker.ts runs as a worker thread');
  for (const [index, fuzzCase] of cases.entries()) {
    port.postMessage({ type: 'start', index });
    const bytes = mutate(sources[fuzzCase.source].bytes, fuzzCase);
    let outcome: string;
    try {
      const image = await decodeImage(bytes);
      outcome = image.pixels.length === image.width * image.height && image.width > 0 ? 'decoded' : 'bad image';
    } catch (error) {
      outcome = isXrayError(error)
        ? error.code
        : `crash: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    port.postMessage({ type: 'done', index, outcome });
  }
}

void main();
