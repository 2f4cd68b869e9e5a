import type { Command } from 'commander';
import { withDatabase } from './apikey';
import { migrateDatabase } from './migrate';

interface AddOptions {
  client: string;
  dicom?: string;
  stow?: string;
  header: string[];
  objects: string;
  json?: boolean;
}

/** "K: V" header options as a record; throws on a malformed one. */
export function parseHeaders(headers: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const header of headers) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(header);
    if (!match) throw new Error(`--header "${header}" is not "Name: value"`);
    out[match[1]] = match[2];
  }
  return out;
}

function describe(d: { transport: 'dimse' | 'stow'; aeTitle?: string; host?: string; port?: number; url?: string }) {
  return d.transport === 'dimse' ? `C-STORE ${d.aeTitle}@${d.host}:${d.port}` : `STOW-RS ${d.url}`;
}

/**
 * `xray destination add|list|remove`: where a client's DICOM results (SR, Secondary Captures)
 * are sent when a study completes: a DICOM node by C-STORE or a DICOMweb server by STOW-RS.
 */
export function register(program: Command): void {
  const destination = program
    .command('destination')
    .description("manage clients' DICOM export destinations (uses DATABASE_URL)");
  destination
    .command('add')
    .description('send a client’s DICOM results to a DICOM node (C-STORE) or a DICOMweb server (STOW-RS)')
    .requiredOption('--client <name>', 'client name or id (see `xray apikey list`)')
    .option('--dicom <AE@HOST:PORT>', 'a DICOM node: its AE title, host and port (C-STORE)')
    .option('--stow <url>', 'a DICOMweb root URL (STOW-RS to <url>/studies)')
    .option('--header <"K: V">', 'an HTTP header for STOW-RS (repeatable), e.g. "Authorization: Bearer …"', collect, [])
    .option('--objects <kinds>', 'which objects: sr, sc or sr,sc', 'sr,sc')
    .option('--json', 'print JSON')
    .action(async (options: AddOptions) => {
      const { parseDicomDestination } = await import('@xray/dicom');
      if (!options.dicom === !options.stow) throw new Error('give exactly one of --dicom AE@HOST:PORT or --stow URL');
      if (options.dicom && options.header.length > 0) throw new Error('--header is for --stow destinations');
      const kinds = [...new Set(options.objects.split(',').map((k) => k.trim().toLowerCase()))];
      if (kinds.length === 0 || kinds.some((k) => k !== 'sr' && k !== 'sc'))
        throw new Error(`--objects "${options.objects}": expected sr, sc or sr,sc`);
      const target = options.dicom
        ? { transport: 'dimse' as const, ...parseDicomDestination(options.dicom) }
        : { transport: 'stow' as const, url: parseStowUrl(options.stow!), headers: parseHeaders(options.header) };
      await migrateDatabase((line) => (options.json ? undefined : console.error(line)));
      const { addDestination, resolveClient } = await import('@xray/db');
      const added = await withDatabase(async (ds) => {
        const client = await resolveClient(ds, options.client);
        return addDestination(ds, client.id, target, kinds as Array<'sr' | 'sc'>);
      });
      if (options.json) {
        console.log(JSON.stringify(listing(added)));
        return;
      }
      console.log(
        `destination ${added.id}: ${describe(added)} for ${added.clientName} (${added.objectKinds.join(', ')})`,
      );
    });

  destination
    .command('list')
    .description('list destinations (header values are not shown)')
    .option('--client <name>', 'only this client’s (name or id)')
    .option('--json', 'print JSON')
    .action(async (options: { client?: string; json?: boolean }) => {
      const { listDestinations, resolveClient } = await import('@xray/db');
      const rows = await withDatabase(async (ds) =>
        listDestinations(ds, { clientId: options.client ? (await resolveClient(ds, options.client)).id : undefined }),
      );
      if (options.json) {
        console.log(JSON.stringify(rows.map(listing)));
        return;
      }
      if (rows.length === 0)
        console.log('no destinations yet: `xray destination add --client NAME --dicom AE@HOST:PORT`');
      for (const d of rows)
        console.log(`${d.id}  ${describe(d)}  ${d.objectKinds.join(',')}  ${d.clientName} (${d.clientId})`);
    });

  destination
    .command('remove')
    .description('stop sending to a destination (its delivery log stays); pending exports to it fail')
    .argument('<id>', 'the destination id (see `xray destination list`)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const { removeDestination } = await import('@xray/db');
      const valid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
      if (!valid || !(await withDatabase((ds) => removeDestination(ds, id))))
        throw new Error(`no destination with id ${id} (see \`xray destination list\`)`);
      if (options.json) console.log(JSON.stringify({ id, removed: true }));
      else console.log(`removed destination ${id}`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseStowUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--stow "${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--stow "${raw}": expected http(s)`);
  return url.toString().replace(/\/+$/, '');
}

/** A destination for `--json`: header names only (their values may be secrets). */
function listing(d: import('@xray/db').DicomDestination) {
  const common = {
    id: d.id,
    clientId: d.clientId,
    clientName: d.clientName,
    objects: d.objectKinds,
    createdAt: d.createdAt,
  };
  return d.transport === 'dimse'
    ? { ...common, transport: 'dimse', aeTitle: d.aeTitle, host: d.host, port: d.port }
    : { ...common, transport: 'stow', url: d.url, headers: Object.keys(d.headers) };
}
