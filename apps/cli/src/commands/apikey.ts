import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { databaseUrl, migrateDatabase } from './migrate';

interface CreateOptions {
  name: string;
  admin?: boolean;
  webhookUrl?: string;
  json?: boolean;
}

/** Runs `work` with a one-connection data source on DATABASE_URL. */
export async function withDatabase<T>(work: (ds: DataSource) => Promise<T>): Promise<T> {
  const { createDataSource } = await import('@xray/db');
  const ds = createDataSource(databaseUrl(), { poolSize: 1 });
  await ds.initialize();
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
  }
}

/** A client's default webhook URL must be http(s); the gateway checks its target when it sends. */
export function checkWebhookUrl(raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--webhook-url: not a URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('--webhook-url must be http(s)');
}

/** What an operator needs to know after revoking or rotating: the gateway caches keys briefly. */
const TAKES_EFFECT = 'The gateway refuses the old key within API_KEY_CACHE_MS (30 s by default).';

/**
 * `xray apikey create|list|revoke|rotate`: clients (tenants) and their API keys. A key is
 * printed once, when it is created or rotated; only its sha256 is stored.
 */
export function register(program: Command): void {
  const apikey = program.command('apikey').description('manage API keys (uses DATABASE_URL)');
  apikey
    .command('create')
    .description('create a client with an API key and a webhook signing secret (shown once)')
    .requiredOption('--name <name>', 'client name, e.g. the hospital system')
    .option('--admin', 'an admin key (operations endpoints: all webhook deliveries, /admin/queues)')
    .option('--webhook-url <url>', "the client's default webhook URL (DICOM studies, submissions without callbackUrl)")
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions) => {
      if (options.webhookUrl !== undefined) checkWebhookUrl(options.webhookUrl);
      // Migrates first, so that it also works on a fresh install.
      await migrateDatabase((line) => (options.json ? undefined : console.error(line)));
      const { createClientWithKey, setClientWebhookUrl } = await import('@xray/db');
      const issued = await withDatabase(async (ds) => {
        const created = await createClientWithKey(ds, { name: options.name, admin: options.admin });
        if (options.webhookUrl) await setClientWebhookUrl(ds, created.clientId, options.webhookUrl);
        return created;
      });
      if (options.json) {
        console.log(
          JSON.stringify({
            clientId: issued.clientId,
            apiKeyId: issued.apiKeyId,
            apiKey: issued.apiKey,
            webhookSecret: issued.webhookSecret,
            kind: issued.kind,
          }),
        );
        return;
      }
      console.log(`client:         ${options.name} (${issued.clientId})`);
      console.log(`API key:        ${issued.apiKey}${issued.kind === 'admin' ? '  (admin)' : ''}`);
      console.log(`key id:         ${issued.apiKeyId}`);
      console.log(`webhook secret: ${issued.webhookSecret}`);
      console.log('Store both now: they are not shown again (only a hash of the key is kept).');
    });

  apikey
    .command('list')
    .description('list API keys (id, client, kind, first characters, created, revoked); never the keys themselves')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { listApiKeys } = await import('@xray/db');
      const keys = await withDatabase(listApiKeys);
      if (options.json) {
        console.log(JSON.stringify(keys));
        return;
      }
      if (keys.length === 0) console.log('no API keys yet: `xray apikey create --name NAME`');
      for (const k of keys) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        console.log(
          `${k.id}  ${k.kind.padEnd(6)}  ${k.prefix}…  ${k.clientName} (${k.clientId})  created ${k.createdAt.toISOString()}  ${state}`,
        );
      }
    });

  apikey
    .command('revoke')
    .description('revoke an API key by id (see `xray apikey list`)')
    .argument('<id>', 'the key id')
    .action(async (id: string) => {
      const { revokeApiKey } = await import('@xray/db');
      if (!(await withDatabase((ds) => revokeApiKey(ds, id))))
        throw new Error(`no active API key with id ${id} (see \`xray apikey list\`)`);
      console.log(`revoked API key ${id}. ${TAKES_EFFECT}`);
    });

  apikey
    .command('rotate')
    .description('replace an API key by a new one for the same client (printed once) and revoke the old one')
    .argument('<id>', 'the key id')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const { rotateApiKey } = await import('@xray/db');
      const issued = await withDatabase((ds) => rotateApiKey(ds, id));
      if (!issued) throw new Error(`no active API key with id ${id} (see \`xray apikey list\`)`);
      if (options.json) {
        console.log(
          JSON.stringify({
            clientId: issued.clientId,
            apiKeyId: issued.apiKeyId,
            apiKey: issued.apiKey,
            kind: issued.kind,
            revokedApiKeyId: id,
          }),
        );
        return;
      }
      console.log(`API key:        ${issued.apiKey}${issued.kind === 'admin' ? '  (admin)' : ''}`);
      console.log(`key id:         ${issued.apiKeyId}`);
      console.log(`Store it now: it is not shown again. Key ${id} is revoked. ${TAKES_EFFECT}`);
    });
}
