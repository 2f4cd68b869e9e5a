import { Logger as NestLogger } from '@nestjs/common';
import { ClientRedis, ServerRedis, Transport, type RedisOptions } from '@nestjs/microservices';
import { STATUS_EVENT_PATTERN, type InstanceStatusEvent } from '@xray/shared';
import type { AppConfig } from '../config';
import type { HealthCheck } from '../observability/health';
import { redisOptions } from '../queues/connection';

/** Reconnect delay after the n-th failed try: 100 ms doubling up to 5 s, forever (a Redis restart must not end live updates). */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 5000);
}

/** The Redis transport that carries live status events from the workers to the gateway(s). */
export function statusEventTransport(config: AppConfig): RedisOptions {
  const { host, port, username, password, db, tls } = redisOptions(config.redisUrl);
  return { transport: Transport.REDIS, options: { host, port, username, password, db, tls } };
}

/**
 * The gateway's subscriber: Nest's Redis server, but reconnecting forever with backoff
 * (Nest's own strategy gives up unless told a number of attempts) and reporting whether
 * it is subscribed, for the readiness probe.
 */
export class StatusEventServer extends ServerRedis {
  private subscribed = false;

  constructor(config: AppConfig) {
    super(statusEventTransport(config).options ?? {});
    this.status.subscribe((status) => (this.subscribed = status === 'connected'));
  }

  override createRetryStrategy(times: number): number | undefined {
    return this.isManuallyClosed ? undefined : reconnectDelayMs(times);
  }

  /** Readiness: down while the subscriber is not connected (live updates would be lost silently). */
  healthCheck(): HealthCheck {
    return {
      name: 'status-events',
      check: () => {
        if (!this.subscribed) throw new Error('status event subscriber not connected to Redis');
      },
    };
  }
}

/** The workers' publisher, reconnecting forever with the same backoff. */
class StatusEventClient extends ClientRedis {
  override createRetryStrategy(times: number): number | undefined {
    return this.isManuallyClosed ? undefined : reconnectDelayMs(times);
  }
}

/**
 * Publishes InstanceStatusEvents (ids and status only). Live updates are best effort:
 * the database stays the truth, so a lost event only delays a viewer's refresh.
 */
export class StatusPublisher {
  private readonly client: ClientRedis;
  private readonly logger = new NestLogger('StatusPublisher');

  constructor(config: AppConfig) {
    this.client = new StatusEventClient(statusEventTransport(config).options ?? {});
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
