import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { OBSERVABILITY_PATHS } from './paths';
import { adminKeyFrom, QueueDashboardModule } from './queue-dashboard.module';

describe('QueueDashboardModule (real HTTP and Redis)', () => {
  const prefix = `test-board-${randomUUID()}`;
  const connection = { host: '127.0.0.1', port: 6379 };
  const queues = ['inference', 'explain', 'webhook'].map((name) => new Queue(name, { connection, prefix }));
  let app: INestApplication;
  let board: string;

  beforeAll(async () => {
    @Module({
      imports: [
        QueueDashboardModule.forRootAsync({
          useFactory: () => ({ queues, isAdminKey: async (key: string) => key === 'admin-key' }),
        }),
      ],
    })
    class GatewayLikeModule {}
    app = await NestFactory.create(GatewayLikeModule, { logger: false, forceCloseConnections: true });
    await app.listen(0, '127.0.0.1');
    board = (await app.getUrl()) + OBSERVABILITY_PATHS.queueDashboard;
  }, 30_000);
  afterAll(async () => {
    await app.close();
    for (const queue of queues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('refuses requests without an admin key and asks browsers for credentials', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer client-key' },
      { authorization: 'Token admin-key' },
    ];
    for (const headers of attempts) {
      const res = await fetch(board, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Basic');
      expect((await res.json()).error.code).toBe('UNAUTHENTICATED');
    }
    // The JSON API behind the UI is protected too, not only the page.
    expect((await fetch(`${board}/api/queues`)).status).toBe(401);
  });

  it('serves the dashboard and every queue to an admin key (Bearer or browser Basic auth)', async () => {
    await queues[0].add('classify', { instanceId: 'i1' });
    const page = await fetch(board, { headers: { authorization: 'Bearer admin-key' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');

    const basic = `Basic ${Buffer.from('ops:admin-key').toString('base64')}`;
    const api = await fetch(`${board}/api/queues?activeQueue=inference&status=waiting&page=1`, {
      headers: { authorization: basic },
    });
    expect(api.status).toBe(200);
    const body = await api.json();
    expect(body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['explain', 'inference', 'webhook']);
    const inference = body.queues.find((q: { name: string }) => q.name === 'inference');
    expect(inference.counts.waiting).toBe(1);
  });

  it('reads the key from Bearer and Basic headers only', () => {
    expect(adminKeyFrom('Bearer abc')).toBe('abc');
    expect(adminKeyFrom(`Basic ${Buffer.from('any:k:with:colons').toString('base64')}`)).toBe('k:with:colons');
    expect(adminKeyFrom(undefined)).toBeUndefined();
    expect(adminKeyFrom('Bearer')).toBeUndefined();
  });
});
