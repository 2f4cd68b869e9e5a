import { parentPort, Worker, type Transferable } from 'node:worker_threads';
import type { RuntimeMemory } from '../observability/metrics';

type ToThread<Req> = { id: number; request: Req };
type FromThread<Res> =
  | { type: 'ready'; info: unknown }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; result: Res; memory?: RuntimeMemory }
  | { type: 'error'; id: number; message: string; memory?: RuntimeMemory };

/**
 * Runs CPU-heavy work (the model) in a worker thread so the event loop stays free for
 * BullMQ lock renewal, health probes and metrics. The thread reports 'ready' once
 * loaded, or 'failed' with a reason that readiness shows to the operator.
 */
export class ThreadHost<Req, Res, Info = unknown> {
  state: 'loading' | 'ready' | 'failed' = 'loading';
  failure?: string;
  info?: Info;
  /** The runtime's memory as the thread reported it with its latest answer (metrics). */
  memory?: RuntimeMemory;
  private readonly thread: Worker;
  private readonly pending = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(
    script: string,
    workerData: unknown,
    private readonly onReady?: (info: Info) => void,
  ) {
    this.thread = new Worker(script, { workerData });
    this.thread.on('message', (message: FromThread<Res>) => this.receive(message));
    this.thread.on('error', (error: Error) => this.fail(`model thread crashed: ${error.message}`));
    this.thread.on('exit', (code) => this.fail(`model thread exited (code ${code})`));
  }

  /** Throws the loading failure (readiness check). */
  assertReady(): void {
    if (this.state === 'ready') return;
    throw new Error(this.state === 'loading' ? 'model loading' : (this.failure ?? 'model thread failed'));
  }

  call(request: Req, transfer: Transferable[] = []): Promise<Res> {
    if (this.state === 'failed') return Promise.reject(new Error(this.failure));
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ id, request } satisfies ToThread<Req>, transfer);
    });
  }

  async close(): Promise<void> {
    this.state = 'failed';
    this.failure = 'closed';
    await this.thread.terminate();
  }

  private receive(message: FromThread<Res>): void {
    if (message.type === 'ready') {
      this.state = 'ready';
      this.info = message.info as Info;
      this.onReady?.(this.info);
    } else if (message.type === 'failed') this.fail(message.message);
    else {
      if (message.memory) this.memory = message.memory;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'result') waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.message));
    }
  }

  private fail(reason: string): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.failure = reason;
    for (const { reject } of this.pending.values()) reject(new Error(reason));
    this.pending.clear();
  }
}

export interface ThreadHandler<Req, Res> {
  info: unknown;
  handle(request: Req): Promise<{ result: Res; transfer?: Transferable[] }>;
  /** The runtime's memory (e.g. tf.memory()), sent with every answer. */
  memory?: () => RuntimeMemory;
}

/** The thread side: loads once with `init`, then answers requests one at a time. */
export function serveThread<Req, Res>(init: () => Promise<ThreadHandler<Req, Res>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveThread must run in a worker thread');
  init().then(
    (handler) => {
      port.postMessage({ type: 'ready', info: handler.info } satisfies FromThread<Res>);
      let queue = Promise.resolve();
      port.on('message', ({ id, request }: ToThread<Req>) => {
        queue = queue.then(async () => {
          try {
            const { result, transfer } = await handler.handle(request);
            port.postMessage(
              { type: 'result', id, result, memory: handler.memory?.() } satisfies FromThread<Res>,
              transfer ?? [],
            );
          } catch (error) {
            port.postMessage({
              type: 'error',
              id,
              message: (error as Error).message,
              memory: handler.memory?.(),
            } satisfies FromThread<Res>);
          }
        });
      });
    },
    (error: Error) => port.postMessage({ type: 'failed', message: error.message } satisfies FromThread<Res>),
  );
}
