import type { DataSource } from 'typeorm';

/** Whether an API key (by id) still exists and is not revoked: long-lived streams re-check it. */
export async function isApiKeyActive(ds: DataSource, apiKeyId: string): Promise<boolean> {
  const rows = await ds.query('SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NULL', [apiKeyId]);
  return rows.length === 1;
}
