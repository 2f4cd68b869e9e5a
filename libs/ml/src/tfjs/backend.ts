import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  backend: TfjsBackendName;
  threads: number;
}

export interface BackendOptions {
  /** Force a backend (default: the best present: tensorflow, then wasm, then cpu). */
  backend?: TfjsBackendName;
  /** wasm threads (default: the number of cores). 1 = the single-threaded SIMD build. */
  threads?: number;
}

let active: Promise<BackendInfo> | undefined;
let activeKey = '';

/**
 * Selects and initialises the tfjs backend once per process: tfjs-node-gpu, then tfjs-node
 * (they register the `tensorflow` backend when installed), then wasm with SIMD and threads,
 * then cpu. Calling it again with other options switches backend.
 */
export function initTfjsBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const key = `${options.backend ?? 'best'}:${options.threads ?? 'cores'}`;
  if (!active || key !== activeKey) {
    activeKey = key;
    active = selectBackend(options);
  }
  return active;
}

async function selectBackend(options: BackendOptions): Promise<BackendInfo> {
  const candidates: TfjsBackendName[] = options.backend ? [options.backend] : ['tensorflow', 'wasm', 'cpu'];
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      if (name === 'tensorflow') return await useTensorflow();
      if (name === 'wasm') return await useWasm(options.threads ?? os.availableParallelism());
      await tf.setBackend('cpu');
      await tf.ready();
      return { backend: 'cpu', threads: 1 };
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no tfjs backend could be initialised (${failures.join('; ')})`);
}

async function useTensorflow(): Promise<BackendInfo> {
  let loaded = false;
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
      loaded = true;
      break;
    } catch {
      // not installed: try the next one
    }
  }
  if (!loaded || !(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node is not installed');
  await tf.ready();
  return { backend: 'tensorflow', threads: os.availableParallelism() };
}

let wasmThreads: number | undefined;

/**
 * tfjs-backend-wasm turns threads off under Node (its feature check returns false there and
 * its pthread worker is handed over as a Blob, which Node workers cannot load). This adapter
 * registers the `wasm` backend with the threaded SIMD build, the worker script and the main
 * script handed over as files, and XNNPACK's thread count set explicitly (its default is half
 * the cores).
 */
async function useWasm(threads: number): Promise<BackendInfo> {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  if (wasmThreads !== undefined && wasmThreads !== threads) {
    // Re-registering would dispose the live backend and every tensor on it.
    throw new Error(`the wasm backend already runs with ${wasmThreads} threads in this process`);
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  if (wasmThreads === undefined && threads > 1 && simd) {
    wasm.setThreadsCount(threads);
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', async () => {
      const module = await instantiateThreadedWasm(threads);
      const backend = new wasm.BackendWasm(module); // starts the XNNPACK thread pool
      // The pool now holds the workers it needs and nothing creates threads later: stop the rest.
      for (const worker of module.PThread.unusedWorkers.splice(0)) worker.terminate();
      // Pool threads wait forever for work: let the process exit while they do.
      for (const worker of module.PThread.runningWorkers) worker.unref();
      return backend;
    });
  }
  wasmThreads = threads;
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
  return { backend: 'wasm', threads: wasm.getThreadsCount() };
}

function wasmOutFile(name: string): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out', name);
}

/** Writes `contents` once to a file in a private (0700) per-user temp folder; returns its path. */
function materialise(name: string, contents: string): string {
  const dir = path.join(os.tmpdir(), `xray-tfjs-wasm-${process.getuid?.() ?? 0}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dir);
  if (process.getuid && stat.uid !== process.getuid()) throw new Error(`${dir} belongs to another user`);
  const file = path.join(dir, `${tf.version_core}-${name}`);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== contents) {
    const temp = `${file}.${process.pid}`;
    fs.writeFileSync(temp, contents);
    fs.renameSync(temp, file);
  }
  return file;
}

async function instantiateThreadedWasm(threads: number): Promise<any> {
  // The module pre-starts 8 pthread workers (~60 MB each) whatever the thread count: start as
  // many as the pool can use (its threads are all created at once, while the main thread waits).
  const source = fs.readFileSync(wasmOutFile('tfjs-backend-wasm-threaded-simd.js'), 'utf8');
  const poolSize = 'var pthreadPoolSize=8;';
  const mainScript = source.includes(poolSize)
    ? materialise(`threaded-simd-${threads}.js`, source.replace(poolSize, `var pthreadPoolSize=${threads};`))
    : wasmOutFile('tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as (config: object) => Promise<any>;
  const { wasmWorkerContents } = require(wasmOutFile('tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The contents came through a template literal: re-escape its newlines (inside string literals).
  const workerFile = materialise('worker.js', wasmWorkerContents.replace(/\n/g, '\\n'));
  // The module sizes its thread pool at start-up from emscripten_num_logical_cores() / 2
  // (os.cpus() under Node, meant to skip hyper-threads): report 2 x threads while it starts.
  const realOs = require('node:os') as typeof os; // the module object itself, not an interop copy
  const cpus = realOs.cpus;
  realOs.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus()[i % cpus().length]);
  let module: any;
  try {
    module = await factory({
      mainScriptUrlOrBlob: mainScript,
      locateFile: (file: string) => (file.endsWith('.worker.js') ? workerFile : wasmOutFile(file)),
    });
  } finally {
    realOs.cpus = cpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}
