import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { JobOutcome } from '@xray/shared';
import type { AppConfig } from '../config';
import { runHealthChecks, type HealthCheck } from '../observability/health';
import { withCorrelationId, type Logger } from '../logging/logger';
import { redisOptions } from './connection';

/** Thrown for a handler's 'failed' outcome: BullMQ fails the job without retrying. */
class HandledFailure extends UnrecoverableError {}

export interface QueueWorkerOptions {
  config: AppConfig;
  logger: Logger;
  concurrency: number;
  /** Checked before the worker takes its first job. */
  readiness: HealthCheck[];
  /**
   * Whether a thrown error means a dependency is down (PostgreSQL restarting, say) rather than
   * that the job is bad. Such a job is put back, delayed by `outageRetryMs` (5 s), without using
   * up one of its JOB_ATTEMPTS: an outage longer than the retries' backoff must not fail jobs
   * for good (their final-failure handler could not even record it while the database is down).
   */
  isOutage?: (error: unknown) => boolean;
  outageRetryMs?: number;
}

/**
 * Owns one BullMQ Worker's lifecycle (novu style): it starts paused, takes jobs only once
 * every readiness check passes, and on shutdown lets the current jobs finish within
 * SHUTDOWN_TIMEOUT_MS before handing them back (their locks lapse and another worker
 * retries them). Handlers return immich-style outcomes: 'failed' is final (no retry);
 * a thrown error is transient and retried with backoff.
 */
export abstract class QueueWorker<T> {
  private worker?: Worker<T>;
  private stopping = false;
  private readyTimer?: NodeJS.Timeout;

  protected constructor(
    readonly queueName: string,
    protected readonly options: QueueWorkerOptions,
  ) {}

  protected abstract handle(job: Job<T>): Promise<JobOutcome>;

  /** Called once a job has failed for good (retries exhausted, or an unrecoverable error). */
  protected onFinalFailure(_job: Job<T>, _error: Error): Promise<void> {
    return Promise.resolve();
  }

  /** True once the worker takes jobs (a readiness signal). */
  get running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  /** The BullMQ worker, for metrics and heartbeats; available after start(). */
  get bullWorker(): Worker<T> | undefined {
    return this.worker;
  }

  start(): void {
    const { config, logger } = this.options;
    this.worker = new Worker<T>(this.queueName, (job, token) => this.process(job, token), {
      connection: redisOptions(config.redisUrl),
      prefix: config.queuePrefix,
      autorun: false,
      concurrency: this.options.concurrency,
      lockDuration: config.jobs.lockDurationMs,
      stalledInterval: config.jobs.stalledIntervalMs,
      maxStalledCount: 2,
    });
    this.worker.on('failed', (job, error) => {
      // A 'failed' outcome was already recorded by the handler itself.
      if (!job || error instanceof HandledFailure) return;
      const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (final)
        void this.onFinalFailure(job, error).catch((e) =>
          logger.error({ err: e, jobId: job.id }, 'final-failure handler failed'),
        );
    });
    this.worker.on('error', (error) => logger.error({ err: error, queue: this.queueName }, 'queue worker error'));
    void this.resumeWhenReady();
  }

  private async resumeWhenReady(): Promise<void> {
    const { logger, readiness } = this.options;
    let lastProblems = '';
    while (!this.stopping) {
      const report = await runHealthChecks(readiness);
      if (report.status === 'ok') {
        logger.info({ queue: this.queueName }, 'dependencies ready; taking jobs');
        void this.worker!.run().catch((error) => logger.error({ err: error }, 'queue worker stopped'));
        return;
      }
      const problems = Object.entries(report.checks)
        .filter(([, r]) => r.status === 'down')
        .map(([name, r]) => `${name}: ${r.error}`)
        .join('; ');
      if (problems !== lastProblems) logger.warn({ queue: this.queueName }, `not taking jobs yet: ${problems}`);
      lastProblems = problems;
      await new Promise((resolve) => (this.readyTimer = setTimeout(resolve, 1000)));
    }
  }

  private async process(job: Job<T>, token?: string): Promise<JobOutcome> {
    const data = job.data as { correlationId?: string };
    return withCorrelationId(data.correlationId, async () => {
      let outcome: JobOutcome;
      try {
        outcome = await this.handle(job);
      } catch (error) {
        const { isOutage, outageRetryMs = 5000, logger } = this.options;
        if (!isOutage?.(error) || !token) throw error;
        logger.warn(
          { jobId: job.id, queue: this.queueName, err: (error as Error).message },
          `dependency down; job retried in ${outageRetryMs} ms without using an attempt`,
        );
        await job.moveToDelayed(Date.now() + outageRetryMs, token);
        throw new DelayedError();
      }
      if (outcome === 'failed') throw new HandledFailure(`${this.queueName} job ${job.id} failed`);
      return outcome;
    });
  }

  /** Drains: waits for the current jobs up to the shutdown timeout, then hands them back. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.readyTimer);
    const worker = this.worker;
    if (!worker) return;
    const { config, logger } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      worker.close().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!drained) {
      logger.warn({ queue: this.queueName }, 'shutdown timeout: handing active jobs back');
      await worker.close(true);
    }
  }
}
