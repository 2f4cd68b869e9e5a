import { randomBytes } from 'node:crypto';

/**
 * Names for the per-suite resources tests create on the shared local servers: each suite
 * gets its own database and Redis key prefix, so suites can run in parallel.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase();
}

const PG_BASE = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testDatabaseUrl(database: string): string {
  return `${PG_BASE.replace(/\/+$/, '')}/${database}`;
}

/**
 * Awaits services started in parallel. When one fails to start, the others are still awaited and
 * stopped (their `stop()` or `close()`), so a failed start leaks no server; then its error is thrown.
 */
export async function startedTogether<T extends readonly unknown[]>(starts: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(starts as readonly Promise<unknown>[]);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (!failed) return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.allSettled(
    settled.map((result) => {
      const service = result.status === 'fulfilled' ? (result.value as { stop?: unknown; close?: unknown }) : undefined;
      if (typeof service?.stop === 'function') return service.stop();
      if (typeof service?.close === 'function') return service.close();
      return undefined;
    }),
  );
  throw failed.reason;
}
