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
