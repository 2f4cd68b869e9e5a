import { Controller, Get, INestApplication, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { signalCheck, type HealthCheck } from './health';
import { ObservabilityModule } from './observability.module';
import { OBSERVABILITY_PATHS } from './paths';
import { sample } from './prometheus-text';

@Controller('v1/things')
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }
}

async function start(readiness: HealthCheck[], queues: Queue[] = []): Promise<{ app: INestApplication; url: string }> {
  const checkTimeoutMs = 500;
  @Module({
    imports: [
      ObservabilityModule.forRootAsync({ app: 'gateway', useFactory: () => ({ readiness, queues, checkTimeoutMs }) }),
    ],
    controllers: [ThingsController],
  })
  class TestAppModule {}
  const app = await NestFactory.create(TestAppModule, { logger: false, forceCloseConnections: true });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

const redisCheck = (client: IORedis): HealthCheck => ({ name: 'redis', check: () => client.ping() });
const postgresCheck = (pool: Pool): HealthCheck => ({ name: 'postgres', check: () => pool.query('SELECT 1') });

describe('ObservabilityModule (real HTTP, Redis and Postgres)', () => {
  const prefix = `test-obs-${randomUUID()}`;
  const redis = new IORedis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres', max: 1 });
  const queue = new Queue('webhook', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
  const apps: INestApplication[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await pool.end();
  });

  it('serves liveness, readiness with each check, and Prometheus metrics', async () => {
    let modelLoaded = false;
    const { app, url } = await start(
      [redisCheck(redis), postgresCheck(pool), signalCheck('model', () => modelLoaded, 'model not loaded')],
      [queue],
    );
    apps.push(app);
    await queue.add('deliver', { deliveryId: 'd1', correlationId: 'c1' });

    const live = await fetch(url + OBSERVABILITY_PATHS.live);
    expect(live.status).toBe(200);

    let ready = await fetch(url + OBSERVABILITY_PATHS.ready);
    let body = await ready.json();
    expect(ready.status).toBe(503);
    expect(body.checks.redis.status).toBe('up');
    expect(body.checks.postgres.status).toBe('up');
    expect(body.checks.model).toMatchObject({ status: 'down', error: 'model not loaded' });

    modelLoaded = true;
    ready = await fetch(url + OBSERVABILITY_PATHS.ready);
    body = await ready.json();
    expect(ready.status).toBe(200);
    expect(body.status).toBe('ok');

    expect((await fetch(`${url}/v1/things/42`)).status).toBe(200);
    expect((await fetch(`${url}/v1/things/43`)).status).toBe(200);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);

    const scrape = await fetch(url + OBSERVABILITY_PATHS.metrics);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    // Route templates, not raw URLs: both ids land in one series.
    expect(
      sample(text, 'xray_http_request_duration_seconds_count', {
        route: '/v1/things/:id',
        status: '200',
        app: 'gateway',
      }),
    ).toBe(2);
    expect(sample(text, 'xray_http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBe(1);
    expect(sample(text, 'xray_queue_jobs', { queue: 'webhook', state: 'waiting' })).toBe(1);
  }, 30_000);

  it('reports a dependency that is down (and one that hangs) by name with 503', async () => {
    const deadRedis = new IORedis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const hanging: HealthCheck = { name: 'storage', check: () => new Promise(() => undefined) };
    const { app, url } = await start([redisCheck(deadRedis), postgresCheck(pool), hanging]);
    apps.push(app);

    const ready = await fetch(url + OBSERVABILITY_PATHS.ready);
    const body = await ready.json();
    expect(ready.status).toBe(503);
    expect(body.checks.redis.status).toBe('down');
    expect(body.checks.postgres.status).toBe('up');
    expect(body.checks.storage).toMatchObject({ status: 'down', error: 'no answer within 500 ms' });
    // Liveness does not depend on dependencies: restarting would not fix them.
    expect((await fetch(url + OBSERVABILITY_PATHS.live)).status).toBe(200);
    deadRedis.disconnect();
  }, 30_000);
});
