import { createDataSource, dropDatabase, migrate } from '@xray/db';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import { runCli } from '../testing/run-cli';

/** `xray apikey create --webhook-url`, `client update` and `dicom-node add|list|remove` on a real database. */
const databaseUrl = testDatabaseUrl(uniqueName('xray_cli_dicom'));
const saved = process.env.DATABASE_URL;

beforeAll(async () => {
  process.env.DATABASE_URL = databaseUrl;
  await migrate(databaseUrl);
});

afterAll(async () => {
  process.env.DATABASE_URL = saved;
  await dropDatabase(databaseUrl).catch(() => undefined);
});

async function webhookUrlOf(clientId: string): Promise<string | null> {
  const ds = createDataSource(databaseUrl, { poolSize: 1 });
  await ds.initialize();
  try {
    return (await ds.query('SELECT webhook_url FROM clients WHERE id = $1', [clientId]))[0].webhook_url;
  } finally {
    await ds.destroy();
  }
}

it('creates a client with a default webhook URL and updates it', async () => {
  const created = JSON.parse(
    await runCli([
      'apikey',
      'create',
      '--name',
      'st-elsewhere',
      '--webhook-url',
      'https://ris.example.org/a',
      '--json',
    ]),
  );
  expect(await webhookUrlOf(created.clientId)).toBe('https://ris.example.org/a');
  await runCli(['client', 'update', 'st-elsewhere', '--webhook-url', 'https://ris.example.org/b', '--json']);
  expect(await webhookUrlOf(created.clientId)).toBe('https://ris.example.org/b');
  await expect(runCli(['client', 'update', 'st-elsewhere', '--webhook-url', 'ftp://x'])).rejects.toThrow(/http/);
  await expect(runCli(['client', 'update', 'nobody', '--webhook-url', 'https://x.org'])).rejects.toThrow(/no client/);
});

it('adds, lists and removes DICOM nodes', async () => {
  const added = JSON.parse(
    await runCli([
      'dicom-node',
      'add',
      '--client',
      'st-elsewhere',
      '--ae-title',
      'ORTHANC',
      '--host',
      '10.0.0.5',
      '--json',
    ]),
  );
  expect(added).toMatchObject({ aeTitle: 'ORTHANC', host: '10.0.0.5', clientName: 'st-elsewhere' });
  await expect(runCli(['dicom-node', 'add', '--client', 'st-elsewhere', '--ae-title', 'ORTHANC'])).rejects.toThrow(
    /already registered/,
  );
  await expect(runCli(['dicom-node', 'add', '--client', 'nobody', '--ae-title', 'X'])).rejects.toThrow(/no client/);
  await expect(
    runCli(['dicom-node', 'add', '--client', 'st-elsewhere', '--ae-title', 'WAY_TOO_LONG_AE_TITLE']),
  ).rejects.toThrow(/AE title/);
  const listed = JSON.parse(await runCli(['dicom-node', 'list', '--json']));
  expect(listed.map((n: any) => n.aeTitle)).toEqual(['ORTHANC']);
  await runCli(['dicom-node', 'remove', 'ORTHANC']);
  expect(JSON.parse(await runCli(['dicom-node', 'list', '--json']))).toEqual([]);
  await expect(runCli(['dicom-node', 'remove', 'ORTHANC'])).rejects.toThrow(/no DICOM node/);
});
