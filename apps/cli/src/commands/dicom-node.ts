import type { Command } from 'commander';
import { withDatabase } from './apikey';

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/**
 * `xray dicom-node add|list|remove`: the calling AE titles allowed to send to the DICOM
 * listener, each belonging to a client and optionally pinned to the host it connects from.
 */
export function register(program: Command): void {
  const node = program
    .command('dicom-node')
    .description('manage the DICOM nodes that may send studies (uses DATABASE_URL)');
  node
    .command('add')
    .description('allow a calling AE title to send DICOM for a client')
    .requiredOption('--client <name>', 'an existing client (`xray apikey create --name`)')
    .requiredOption('--ae-title <ae>', 'the calling AE title of the modality or PACS (1-16 characters)')
    .option('--host <ip>', 'accept this AE only from this IP address')
    .option('--json', 'print JSON')
    .action(async (options: { client: string; aeTitle: string; host?: string; json?: boolean }) => {
      const aeTitle = options.aeTitle.trim();
      if (!AE_TITLE.test(aeTitle)) throw new Error(`--ae-title: not a valid AE title: "${options.aeTitle}"`);
      const { addDicomNode, findClientIdByName } = await import('@xray/db');
      const added = await withDatabase(async (ds) => {
        const clientId = await findClientIdByName(ds, options.client);
        if (!clientId)
          throw new Error(`no client named "${options.client}" (create it with \`xray apikey create --name\`)`);
        const created = await addDicomNode(ds, { clientId, aeTitle, host: options.host ?? null });
        if (!created) throw new Error(`AE title ${aeTitle} is already registered (see \`xray dicom-node list\`)`);
        return created;
      });
      if (options.json) console.log(JSON.stringify(added));
      else
        console.log(
          `DICOM node ${added.aeTitle} -> client ${added.clientName}${added.host ? ` from ${added.host}` : ''}`,
        );
    });

  node
    .command('list')
    .description('list DICOM nodes')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { listDicomNodes } = await import('@xray/db');
      const nodes = await withDatabase(listDicomNodes);
      if (options.json) {
        console.log(JSON.stringify(nodes));
        return;
      }
      if (nodes.length === 0) console.log('no DICOM nodes yet: `xray dicom-node add --client NAME --ae-title AE`');
      for (const n of nodes)
        console.log(`${n.aeTitle.padEnd(16)}  ${n.clientName} (${n.clientId})  ${n.host ?? 'any host'}`);
    });

  node
    .command('remove')
    .description('remove a DICOM node by AE title (its new associations are rejected)')
    .argument('<ae-title>', 'the calling AE title')
    .action(async (aeTitle: string) => {
      const { removeDicomNode } = await import('@xray/db');
      if (!(await withDatabase((ds) => removeDicomNode(ds, aeTitle.trim()))))
        throw new Error(`no DICOM node with AE title ${aeTitle} (see \`xray dicom-node list\`)`);
      console.log(`removed DICOM node ${aeTitle}`);
    });
}
