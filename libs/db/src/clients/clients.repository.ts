import { createHash, randomBytes } from 'node:crypto';
import { IsNull, type DataSource } from 'typeorm';
import { ApiKeyEntity, type ApiKeyKind } from '../entities/api-key.entity';
import { ClientEntity } from '../entities/client.entity';

export interface IssuedKey {
  clientId: string;
  apiKeyId: string;
  /** Shown once; only its hash is stored. */
  apiKey: string;
  webhookSecret: string;
  kind: ApiKeyKind;
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

function newApiKey(kind: ApiKeyKind): string {
  return `xr_${kind === 'admin' ? 'admin_' : ''}${randomBytes(24).toString('base64url')}`;
}

/** Creates a client (tenant) with its webhook signing secret and a first API key. */
export async function createClientWithKey(
  ds: DataSource,
  options: { name: string; admin?: boolean },
): Promise<IssuedKey> {
  const kind: ApiKeyKind = options.admin ? 'admin' : 'client';
  const apiKey = newApiKey(kind);
  const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  return ds.transaction(async (em) => {
    const client = await em.save(em.create(ClientEntity, { name: options.name, webhookSecret }));
    const key = await em.save(
      em.create(ApiKeyEntity, {
        clientId: client.id,
        name: options.name,
        kind,
        prefix: apiKey.slice(0, 10),
        keyHash: hashApiKey(apiKey),
        revokedAt: null,
      }),
    );
    return { clientId: client.id, apiKeyId: key.id, apiKey, webhookSecret, kind };
  });
}

/** An API key as listed to operators: never the key itself, only its first characters. */
export interface ApiKeyListing {
  id: string;
  clientId: string;
  clientName: string;
  name: string;
  kind: ApiKeyKind;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Every API key, newest first, with its client. */
export async function listApiKeys(ds: DataSource): Promise<ApiKeyListing[]> {
  const rows = await ds.query(
    `SELECT k.id, k.client_id, c.name AS client_name, k.name, k.kind, k.prefix, k.created_at, k.revoked_at
       FROM api_keys k JOIN clients c ON c.id = k.client_id ORDER BY k.created_at DESC, k.id`,
  );
  return rows.map((r: Record<string, any>) => ({
    id: r.id,
    clientId: r.client_id,
    clientName: r.client_name,
    name: r.name,
    kind: r.kind,
    prefix: r.prefix,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}

/** The active (not revoked) key with this sha256, as the gateway's authentication needs it. */
export async function findActiveApiKey(
  ds: DataSource,
  keyHash: string,
): Promise<{ id: string; clientId: string; kind: ApiKeyKind } | undefined> {
  const key = await ds.getRepository(ApiKeyEntity).findOne({
    select: { id: true, clientId: true, kind: true },
    where: { keyHash, revokedAt: IsNull() },
  });
  return key ? { id: key.id, clientId: key.clientId, kind: key.kind } : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Revokes a key (the gateway refuses it from then on); false when no active key has this id. */
export async function revokeApiKey(ds: DataSource, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const [, count] = await ds.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return count === 1;
}

/**
 * Replaces an active key with a new one for the same client, name and kind, in one
 * transaction: the old key is revoked as the new one is issued. The webhook secret is kept.
 * Undefined when no active key has this id.
 */
export async function rotateApiKey(ds: DataSource, id: string): Promise<Omit<IssuedKey, 'webhookSecret'> | undefined> {
  if (!UUID.test(id)) return undefined;
  return ds.transaction(async (em) => {
    const [[old]] = await em.query(
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING client_id, name, kind',
      [id],
    );
    if (!old) return undefined;
    const apiKey = newApiKey(old.kind);
    const key = await em.save(
      em.create(ApiKeyEntity, {
        clientId: old.client_id,
        name: old.name,
        kind: old.kind,
        prefix: apiKey.slice(0, 10),
        keyHash: hashApiKey(apiKey),
        revokedAt: null,
      }),
    );
    return { clientId: old.client_id, apiKeyId: key.id, apiKey, kind: old.kind };
  });
}

/** Whether an API key (by id) still exists and is not revoked: long-lived streams re-check it. */
export async function isApiKeyActive(ds: DataSource, apiKeyId: string): Promise<boolean> {
  return ds.getRepository(ApiKeyEntity).exists({ where: { id: apiKeyId, revokedAt: IsNull() } });
}

/** The id of the client with this name; undefined when there is none, an error when the name is ambiguous. */
export async function findClientIdByName(ds: DataSource, name: string): Promise<string | undefined> {
  const rows: Array<{ id: string }> = await ds.query('SELECT id FROM clients WHERE name = $1', [name]);
  if (rows.length > 1) throw new Error(`${rows.length} clients are named "${name}"`);
  return rows[0]?.id;
}

/** Sets (or clears, with null) a client's default webhook URL; false when no client has this id. */
export async function setClientWebhookUrl(
  ds: DataSource,
  clientId: string,
  webhookUrl: string | null,
): Promise<boolean> {
  const [, count] = await ds.query('UPDATE clients SET webhook_url = $2 WHERE id = $1', [clientId, webhookUrl]);
  return count === 1;
}
