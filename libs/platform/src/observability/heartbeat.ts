import type { Job, Worker } from 'bullmq';
import type { XrayMetrics } from './metrics';

/**
 * Proof that a worker is making progress. A worker whose blocking Redis connection died
 * silently (half-open TCP, a NAT that dropped it) still answers PING on its other
 * connection; only something that goes through the blocking connection or finishes jobs
 * shows it is alive. Readiness fails when the last beat is too old.
 */
export class ProgressHeartbeat {
  private last = Date.now();

  beat(): void {
    this.last = Date.now();
  }

  ageMs(): number {
    return Date.now() - this.last;
  }
}

export interface WatchWorkerOptions {
  heartbeat?: ProgressHeartbeat;
  metrics?: XrayMetrics;
  /** How often to send a PING through the worker's blocking connection (default 5 s). */
  probeIntervalMs?: number;
}

/**
 * Ties a BullMQ worker to the heartbeat and the job metrics:
 * - beats on job activity and on every PING answered through the blocking connection
 *   (Redis answers it after the current blocking wait ends, i.e. within the drain delay);
 * - records job duration and time-in-queue for every completed or failed job.
 * Returns a function that stops the probe.
 */
export function watchWorker(worker: Worker, options: WatchWorkerOptions): () => void {
  const { heartbeat, metrics } = options;
  const queue = worker.name;

  const beat = () => heartbeat?.beat();
  worker.on('active', beat);
  worker.on('progress', beat);
  worker.on('drained', beat);
  worker.on('completed', (job: Job) => {
    beat();
    observe(job, 'completed');
  });
  worker.on('failed', (job: Job | undefined) => {
    beat();
    if (job) observe(job, 'failed');
  });

  function observe(job: Job, outcome: 'completed' | 'failed'): void {
    if (!metrics || !job.processedOn) return;
    const duration = (job.finishedOn ?? Date.now()) - job.processedOn;
    // Time in queue only for the first attempt: later attempts include the retry backoff.
    const wait = job.attemptsMade <= 1 ? job.processedOn - job.timestamp - (job.opts.delay ?? 0) : undefined;
    metrics.observeJob(queue, outcome, duration, wait);
  }

  if (!heartbeat) return () => undefined;
  let probing = false;
  const timer = setInterval(() => {
    const blocking = worker.backend.blockingClient;
    if (probing || !blocking) return;
    probing = true;
    blocking
      .then((client) => (client as unknown as { ping(): Promise<unknown> }).ping())
      .then(beat, () => undefined)
      .finally(() => {
        probing = false;
      });
  }, options.probeIntervalMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}
