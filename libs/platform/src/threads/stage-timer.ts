import { performance } from 'node:perf_hooks';

/**
 * Wall time per stage of one job (decode, model, storage, database...), summed when a stage
 * runs more than once; logged at debug level so that bench/pipeline can say where the time goes.
 */
export class StageTimer {
  readonly ms: Record<string, number> = {};

  /** Awaits `work`, adding its wall time to `stage`. */
  async time<T>(stage: string, work: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      this.add(stage, performance.now() - started);
    }
  }

  /** Adds time measured elsewhere (e.g. inside the model thread). */
  add(stage: string, ms: number): void {
    this.ms[stage] = (this.ms[stage] ?? 0) + ms;
  }

  /** Rounded to 0.1 ms, for the log. */
  rounded(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.ms).map(([stage, ms]) => [stage, Math.round(ms * 10) / 10]));
  }
}
