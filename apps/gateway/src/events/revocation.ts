import { isApiKeyActive } from '@xray/db';
import { catchError, filter, from, interval, of, switchMap, take, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';

/** How often an open event stream re-checks its API key (revocation closes it within this). */
export const STREAM_KEY_RECHECK_MS = 2000;

/**
 * Emits once, when the key is found revoked (or deleted). Checked against Postgres directly,
 * not the key cache, because the CLI revokes in the database. A database error keeps the stream:
 * an outage must not close every viewer.
 */
export function keyRevoked(ds: DataSource, apiKeyId: string, everyMs = STREAM_KEY_RECHECK_MS): Observable<unknown> {
  return interval(everyMs).pipe(
    switchMap(() => from(isApiKeyActive(ds, apiKeyId)).pipe(catchError(() => of(true)))),
    filter((active) => !active),
    take(1),
  );
}
