import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: any;
  status: number;
  /** Date.now() when the call arrived. */
  receivedAt: number;
}

/**
 * A local HTTP endpoint that records webhook calls. `failTimes(path, n)` makes it answer
 * 500 to the first n calls on a path (then 200); `alwaysFail(path)` never accepts.
 */
export class WebhookReceiver {
  readonly calls: ReceivedWebhook[] = [];
  private readonly failures = new Map<string, number>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const left = this.failures.get(path) ?? 0;
        const status = left > 0 ? 500 : 200;
        if (left > 0) this.failures.set(path, left - 1);
        let body: unknown;
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
        this.calls.push({ path, headers: req.headers, rawBody, body, status, receivedAt: Date.now() });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
    return this;
  }

  failTimes(path: string, times: number): void {
    this.failures.set(path, times);
  }

  alwaysFail(path: string): void {
    this.failures.set(path, Number.POSITIVE_INFINITY);
  }

  /** Resolves with the calls on `path` once `done(calls)` holds. */
  async waitFor(
    path: string,
    done: (calls: ReceivedWebhook[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const calls = this.calls.filter((c) => c.path === path);
      if (done(calls)) return calls;
      if (Date.now() > deadline)
        throw new Error(
          `webhooks on ${path} not as expected after ${timeoutMs} ms: ${JSON.stringify(calls.map((c) => [c.status, c.body?.type]))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
