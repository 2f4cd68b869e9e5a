import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { heartbeatCheck, runHealthChecks } from './health';
import { ProgressHeartbeat, watchWorker } from './heartbeat';
import { XrayMetrics } from './metrics';
import { sample } from './prometheus-text';

/**
 * A TCP proxy to the local Redis that can go silent: it stops forwarding without closing
 * anything, like a half-open connection behind a NAT that dropped its state.
 */
async function blackholeableProxy(): Promise<{ port: number; silence(): void; close(): Promise<void> }> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(6379, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk) => silent || upstream.write(chunk));
    upstream.on('data', (chunk) => silent || client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    silence: () => {
      silent = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('worker progress heartbeat (real Redis, real BullMQ worker)', () => {
  const prefix = `test-heartbeat-${randomUUID()}`;
  const direct = new IORedis({ host: '127.0.0.1', port: 6379 });
  let queue: Queue;

  beforeAll(() => {
    queue = new Queue('explain', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    direct.disconnect();
  });

  it('records job metrics and reports a worker whose blocking connection silently died, while Redis PING still passes', async () => {
    const proxy = await blackholeableProxy();
    const heartbeat = new ProgressHeartbeat();
    const metrics = new XrayMetrics({ app: 'explain-worker', defaultMetrics: false });
    const worker = new Worker('explain', async () => 'ok', {
      connection: { host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: null },
      prefix,
      drainDelay: 1,
    });
    worker.on('error', () => undefined);
    const stop = watchWorker(worker, { heartbeat, metrics, probeIntervalMs: 200 });
    const checks = [{ name: 'redis', check: () => direct.ping() }, heartbeatCheck(heartbeat, 2000)];
    try {
      await queue.add('explain', { instanceId: 'i1' });
      for (
        let i = 0;
        i < 50 && !sample(await metrics.render(), 'xray_job_duration_seconds_count', { queue: 'explain' });
        i++
      ) {
        await sleep(100);
      }
      const text = await metrics.render();
      expect(sample(text, 'xray_job_duration_seconds_count', { queue: 'explain', outcome: 'completed' })).toBe(1);
      expect(sample(text, 'xray_job_queue_wait_seconds_count', { queue: 'explain' })).toBe(1);

      // Idle for longer than the limit: the probe through the blocking connection keeps it fresh.
      await sleep(2500);
      expect((await runHealthChecks(checks)).status).toBe('ok');

      proxy.silence();
      await sleep(3000);
      const report = await runHealthChecks(checks);
      expect(report.status).toBe('error');
      expect(report.checks.redis.status).toBe('up');
      expect(report.checks.heartbeat.status).toBe('down');
      expect(report.checks.heartbeat.error).toMatch(/^no progress for \d+ s/);
    } finally {
      stop();
      await proxy.close();
      await worker.close(true);
    }
  }, 20_000);
});
