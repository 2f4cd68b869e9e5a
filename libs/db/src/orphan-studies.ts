import type { DataSource } from 'typeorm';

/** Which of these study ids have a row (the storage sweeper keeps their objects). */
export async function existingStudyIds(ds: DataSource, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: Array<{ id: string }> = await ds.query('SELECT id FROM studies WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}
