/**
 * Rejects when `work` has not settled within `ms` (the work itself goes on). For calls on the
 * request path that must not wait on a dependency that is down, e.g. an enqueue while Redis restarts.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
