import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { XrayMetrics } from './metrics';

const connection = { host: '127.0.0.1', port: 6379 };

import { sample } from './prometheus-text';

describe('XrayMetrics', () => {
  const prefix = `test-metrics-${randomUUID()}`;
  let queue: Queue;

  beforeAll(() => {
    queue = new Queue('inference', { connection, prefix });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('counts each queue state from Redis on every scrape', async () => {
    const metrics = new XrayMetrics({ app: 'test', defaultMetrics: false });
    metrics.watchQueues([queue]);
    await queue.add('a', {});
    await queue.add('b', {});
    await queue.add('stat', {}, { priority: 1 });
    await queue.add('later', {}, { delay: 60_000 });

    let text = await metrics.render();
    expect(sample(text, 'xray_queue_jobs', { queue: 'inference', state: 'waiting' })).toBe(2);
    expect(sample(text, 'xray_queue_jobs', { queue: 'inference', state: 'prioritized' })).toBe(1);
    expect(sample(text, 'xray_queue_jobs', { queue: 'inference', state: 'delayed' })).toBe(1);
    expect(sample(text, 'xray_queue_jobs', { queue: 'inference', state: 'active' })).toBe(0);

    await queue.add('c', {});
    text = await metrics.render();
    expect(sample(text, 'xray_queue_jobs', { queue: 'inference', state: 'waiting' })).toBe(3);
  });

  it('records model time per image, batch sizes, webhook outcomes, jobs and HTTP durations', async () => {
    const metrics = new XrayMetrics({ app: 'test', defaultMetrics: false });
    metrics.observeModelTime(400, 4);
    metrics.recordWebhookDelivery('retrying', 1);
    metrics.recordWebhookDelivery('delivered', 2);
    metrics.observeJob('explain', 'completed', 1500, 250);
    metrics.observeHttp('GET', '/v1/studies/:id', 200, 12);
    metrics.addMemoryProbe('tfjs', () => ({ bytes: 4096, tensors: 7 }));

    const text = await metrics.render();
    // 400 ms for 4 images = 0.1 s per image.
    expect(sample(text, 'xray_model_time_per_image_seconds_sum', { phase: 'classify' })).toBeCloseTo(0.1);
    expect(sample(text, 'xray_model_batch_size_sum', { phase: 'classify' })).toBe(4);
    expect(sample(text, 'xray_model_seconds_total', { phase: 'classify' })).toBeCloseTo(0.4);
    expect(sample(text, 'xray_webhook_deliveries_total', { outcome: 'retrying' })).toBe(1);
    expect(sample(text, 'xray_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(sample(text, 'xray_webhook_delivery_attempts_sum', { outcome: 'delivered' })).toBe(2);
    expect(sample(text, 'xray_job_duration_seconds_sum', { queue: 'explain', outcome: 'completed' })).toBe(1.5);
    expect(sample(text, 'xray_job_queue_wait_seconds_sum', { queue: 'explain' })).toBe(0.25);
    expect(
      sample(text, 'xray_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/studies/:id',
        status: '200',
      }),
    ).toBe(1);
    expect(sample(text, 'xray_model_runtime_memory_bytes', { runtime: 'tfjs' })).toBe(4096);
    expect(sample(text, 'xray_model_runtime_tensors', { runtime: 'tfjs' })).toBe(7);
  });

  it('exports process and event-loop metrics by default', async () => {
    const text = await new XrayMetrics({ app: 'test' }).render();
    expect(text).toContain('xray_process_resident_memory_bytes');
    expect(text).toContain('xray_nodejs_eventloop_lag_p99_seconds');
  });
});
