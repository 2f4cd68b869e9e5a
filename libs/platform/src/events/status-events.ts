import { Logger as NestLogger } from '@nestjs/common';
import { ClientProxyFactory, Transport, type ClientProxy, type RedisOptions } from '@nestjs/microservices';
import { STATUS_EVENT_PATTERN, type InstanceStatusEvent } from '@xray/shared';
import type { AppConfig } from '../config';
import { redisOptions } from '../queues/connection';

/** The Redis transport that carries live status events from the workers to the gateway(s). */
export function statusEventTransport(config: AppConfig): RedisOptions {
  const { host, port, username, password, db, tls } = redisOptions(config.redisUrl);
  return { transport: Transport.REDIS, options: { host, port, username, password, db, tls } };
}

/**
 * Publishes InstanceStatusEvents (ids and status only). Live updates are best effort:
 * the database stays the truth, so a lost event only delays a viewer's refresh.
 */
export class StatusPublisher {
  private readonly client: ClientProxy;
  private readonly logger = new NestLogger('StatusPublisher');

  constructor(config: AppConfig) {
    this.client = ClientProxyFactory.create(statusEventTransport(config));
  }

  publish(event: Omit<InstanceStatusEvent, 'at'>): void {
    this.client
      .emit<void, InstanceStatusEvent>(STATUS_EVENT_PATTERN, { ...event, at: new Date().toISOString() })
      .subscribe({
        error: (error: Error) => this.logger.warn(`status event not published: ${error.message}`),
      });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
