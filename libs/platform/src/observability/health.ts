import type { ProgressHeartbeat } from './heartbeat';

/** One dependency a readiness probe checks; `check` throws (or rejects) when it is not usable. */
export interface HealthCheck {
  name: string;
  check(): unknown;
  /** Facts reported with the check once it is up (e.g. which engine serves the model). */
  detail?(): Record<string, unknown> | undefined;
}

export interface CheckResult {
  status: 'up' | 'down';
  ms: number;
  error?: string;
  detail?: Record<string, unknown>;
}

export interface HealthReport {
  status: 'ok' | 'error';
  /** The dependencies that are down, by name (e.g. `["postgres"]`), so an operator sees the cause at once. */
  down: string[];
  checks: Record<string, CheckResult>;
}

/** Runs every check in parallel, each bounded by `timeoutMs` so a hung dependency reads as down. */
export async function runHealthChecks(checks: HealthCheck[], timeoutMs = 2000): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check, detail }): Promise<[string, CheckResult]> => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(check),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { status: 'up', ms: Date.now() - started, ...(detail ? { detail: detail() } : {}) }];
      } catch (error) {
        return [name, { status: 'down', ms: Date.now() - started, error: (error as Error).message }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const report = Object.fromEntries(results);
  const down = results.filter(([, r]) => r.status === 'down').map(([name]) => name);
  return { status: down.length === 0 ? 'ok' : 'error', down, checks: report };
}

/** A readiness signal owned by the app, e.g. "model loaded" or "worker resumed". */
export function signalCheck(name: string, isReady: () => boolean, whenDown = `${name} not ready`): HealthCheck {
  return {
    name,
    check: () => {
      if (!isReady()) throw new Error(whenDown);
    },
  };
}

export function heartbeatCheck(heartbeat: ProgressHeartbeat, maxAgeMs: number, name = 'heartbeat'): HealthCheck {
  return {
    name,
    check: () => {
      const age = heartbeat.ageMs();
      if (age > maxAgeMs) throw new Error(`no progress for ${Math.round(age / 1000)} s (limit ${maxAgeMs / 1000} s)`);
    },
  };
}
