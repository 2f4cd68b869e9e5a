import { invalid } from '../errors/api-error';

/** Keyset cursor over (created_at, id), newest first; created_at kept as Postgres text (microseconds). */
export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt !== 'string' || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(Date.parse(createdAt)))
      throw new Error('shape');
    return { createdAt, id };
  } catch {
    throw invalid('cursor is not valid; use the nextCursor of a previous page');
  }
}

export function parseLimit(raw: string | undefined, fallback = 20, max = 100): number {
  if (raw === undefined || raw === '') return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw invalid(`limit must be an integer from 1 to ${max}`);
  return limit;
}
