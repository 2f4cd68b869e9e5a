/**
 * Bounds the bytes of work in flight (e.g. images being decoded), not only their count: a
 * task waits until its cost fits in what is left of the budget, first come first served.
 * A task larger than the whole budget still runs, alone, so that nothing waits forever.
 */
export class ByteBudget {
  private inUse = 0;
  private running = 0;
  private readonly waiting: Array<{ cost: number; start: () => void }> = [];

  constructor(readonly limitBytes: number) {
    if (!(limitBytes > 0)) throw new Error('a byte budget must be positive');
  }

  /** Bytes held by running tasks now (a metrics probe). */
  get bytesInUse(): number {
    return this.inUse;
  }

  async run<T>(costBytes: number, task: () => Promise<T>): Promise<T> {
    const cost = Math.max(0, costBytes);
    if (this.waiting.length > 0 || !this.fits(cost))
      await new Promise<void>((start) => this.waiting.push({ cost, start }));
    else this.take(cost);
    try {
      return await task();
    } finally {
      this.inUse -= cost;
      this.running--;
      this.admit();
    }
  }

  private fits(cost: number): boolean {
    return this.running === 0 || this.inUse + cost <= this.limitBytes;
  }

  private take(cost: number): void {
    this.inUse += cost;
    this.running++;
  }

  /** Starts waiting tasks in order while they fit (order kept: a large task is not starved by small ones). */
  private admit(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0].cost)) {
      const next = this.waiting.shift()!;
      this.take(next.cost);
      next.start();
    }
  }
}
