import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CONFIG, REDIS } from '@xray/pipeline';
import { withDeadline, type AppConfig } from '@xray/platform';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors/api-error';
import type { AuthedRequest } from './principal';

/**
 * Per-client fixed-window rate limit in Redis (shared by every gateway replica).
 * Runs after ApiKeyGuard. Fails open when Redis is unreachable: limits protect capacity,
 * they must not take the API down with them.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { max, windowMs } = this.config.rateLimit;
    const principal = context.switchToHttp().getRequest<AuthedRequest>().principal;
    if (max === 0 || !principal) return true;
    const window = Math.floor(Date.now() / windowMs);
    const key = `${this.config.queuePrefix}:ratelimit:${principal.clientId}:${window}`;
    let count: number;
    try {
      const counted = this.redis.multi().incr(key).pexpire(key, windowMs).exec();
      const [[, incr]] = (await withDeadline(counted, this.config.queueSweep.enqueueTimeoutMs, 'rate limit')) as Array<
        [Error | null, number]
      >;
      count = incr;
    } catch {
      return true;
    }
    if (count > max) {
      const retryAfter = Math.ceil(((window + 1) * windowMs - Date.now()) / 1000);
      throw new ApiError(429, 'RATE_LIMITED', `Rate limit of ${max} requests per ${windowMs / 1000} s exceeded.`, {
        'Retry-After': String(retryAfter),
      });
    }
    return true;
  }
}
