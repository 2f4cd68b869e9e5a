import type { Command } from 'commander';
import { checkWebhookUrl, withDatabase } from './apikey';

/** `xray client update NAME --webhook-url URL`: settings of an existing client. */
export function register(program: Command): void {
  const client = program.command('client').description('manage clients (uses DATABASE_URL)');
  client
    .command('update')
    .description("set a client's default webhook URL (used for DICOM studies and submissions without callbackUrl)")
    .argument('<name>', 'client name (as given to `xray apikey create --name`)')
    .requiredOption('--webhook-url <url>', 'http(s) URL; an empty string removes it')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { webhookUrl: string; json?: boolean }) => {
      if (options.webhookUrl !== '') checkWebhookUrl(options.webhookUrl);
      const { findClientIdByName, setClientWebhookUrl } = await import('@xray/db');
      const clientId = await withDatabase(async (ds) => {
        const id = await findClientIdByName(ds, name);
        if (!id) throw new Error(`no client named "${name}" (see \`xray apikey list\`)`);
        await setClientWebhookUrl(ds, id, options.webhookUrl || null);
        return id;
      });
      if (options.json) console.log(JSON.stringify({ clientId, name, webhookUrl: options.webhookUrl || null }));
      else console.log(`client ${name} (${clientId}): webhook URL ${options.webhookUrl || 'removed'}`);
    });
}
