/** SQLSTATE classes and codes that mean "the database cannot serve now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Cannot use a pool after calling end/i,
  /not (yet )?(initialized|established|connected)/i,
];

/**
 * Whether an error from pg/TypeORM means that PostgreSQL is down or unreachable (an outage the
 * caller should retry later: 503), as opposed to a bad query or a constraint violation.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
    if (name === 'CannotExecuteNotConnectedError' || name === 'ConnectionIsNotSetError') return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    // AggregateError (IPv4 and IPv6 both refused), TypeORM's driverError and `cause`.
    const nested = e as { errors?: unknown[]; driverError?: unknown; cause?: unknown };
    if (Array.isArray(nested.errors) && nested.errors.some(isDatabaseUnavailable)) return true;
    e = nested.driverError ?? nested.cause;
  }
  return false;
}
