/**
 * Dynamic batching: items that arrive together run as one batch, up to `maxSize` items or
 * `maxWaitMs` after the first item of a batch, whichever comes first. One batch runs at a
 * time; items arriving meanwhile form the next batch, which starts as soon as it ends.
 */
export class DynamicBatcher<In, Out> {
  private waiting: Array<{ item: In; resolve: (o: Out) => void; reject: (e: Error) => void }> = [];
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly runBatch: (items: In[]) => Promise<Out[]>,
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.maxSize) this.flushSoon(0);
      else if (!this.timer) this.flushSoon(this.maxWaitMs);
    });
  }

  private flushSoon(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const batch = this.waiting.splice(0, this.maxSize);
    try {
      const outputs = await this.runBatch(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(outputs[i]));
    } catch (error) {
      for (const w of batch) w.reject(error as Error);
    } finally {
      this.running = false;
      // Items that arrived during the run have waited long enough: they go next, at once.
      if (this.waiting.length > 0) this.flushSoon(0);
    }
  }
}
