import { dropDatabase, migrate } from '@xray/db';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import { runCli } from '../testing/run-cli';

/** `xray destination add|list|remove` against a real Postgres database of its own. */
describe('xray destination', () => {
  const databaseUrl = testDatabaseUrl(uniqueName('xray_cli_dest'));
  const savedUrl = process.env.DATABASE_URL;
  let clientId: string;

  beforeAll(async () => {
    await migrate(databaseUrl);
    process.env.DATABASE_URL = databaseUrl;
    clientId = JSON.parse(await runCli(['apikey', 'create', '--name', 'St Elsewhere', '--json'])).clientId;
  });
  afterAll(async () => {
    process.env.DATABASE_URL = savedUrl;
    await dropDatabase(databaseUrl);
  });

  it('adds a C-STORE and a STOW-RS destination, lists them without header values, removes one', async () => {
    const dimse = JSON.parse(
      await runCli(['destination', 'add', '--client', 'St Elsewhere', '--dicom', 'PACS@10.1.2.3:11112', '--json']),
    );
    expect(dimse).toMatchObject({
      clientId,
      transport: 'dimse',
      aeTitle: 'PACS',
      host: '10.1.2.3',
      port: 11112,
      objects: ['sr', 'sc'],
    });
    const stow = JSON.parse(
      await runCli([
        'destination',
        'add',
        '--client',
        clientId,
        '--stow',
        'https://pacs.example/dicom-web/',
        '--header',
        'Authorization: Bearer s3cret',
        '--objects',
        'sr',
        '--json',
      ]),
    );
    expect(stow).toMatchObject({
      transport: 'stow',
      url: 'https://pacs.example/dicom-web',
      headers: ['Authorization'],
      objects: ['sr'],
    });

    const listed = await runCli(['destination', 'list', '--client', 'St Elsewhere', '--json']);
    expect(JSON.parse(listed).map((d: { id: string }) => d.id)).toEqual([dimse.id, stow.id]);
    expect(listed).not.toContain('s3cret');
    expect(await runCli(['destination', 'list'])).toContain(`C-STORE PACS@10.1.2.3:11112  sr,sc  St Elsewhere`);

    expect(JSON.parse(await runCli(['destination', 'remove', dimse.id, '--json']))).toEqual({
      id: dimse.id,
      removed: true,
    });
    expect(JSON.parse(await runCli(['destination', 'list', '--json'])).map((d: { id: string }) => d.id)).toEqual([
      stow.id,
    ]);
    await expect(runCli(['destination', 'remove', dimse.id])).rejects.toThrow(/no destination with id/);
  });

  it.each([
    [['--client', 'St Elsewhere'], /exactly one of --dicom/],
    [['--client', 'St Elsewhere', '--dicom', 'PACS@h:1', '--stow', 'http://x'], /exactly one of --dicom/],
    [['--client', 'St Elsewhere', '--dicom', 'PACS-hostname:104'], /is not AE@HOST:PORT/],
    [['--client', 'St Elsewhere', '--dicom', 'AN_AE_TITLE_TOO_LONG@h:104'], /1 to 16 characters/],
    [['--client', 'St Elsewhere', '--dicom', 'PACS@h:70000'], /out of range/],
    [['--client', 'St Elsewhere', '--stow', 'ftp://x'], /expected http/],
    [['--client', 'St Elsewhere', '--stow', 'http://x', '--header', 'no colon'], /is not "Name: value"/],
    [['--client', 'St Elsewhere', '--dicom', 'PACS@h:104', '--objects', 'sr,pdf'], /expected sr, sc/],
    [['--client', 'Nobody', '--dicom', 'PACS@h:104'], /no client named "Nobody"/],
  ])('refuses %j with a clear error', async (args, message) => {
    await expect(runCli(['destination', 'add', ...args, '--json'])).rejects.toThrow(message);
  });
});
