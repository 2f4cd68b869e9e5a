import net from 'node:net';
import { Client } from 'pg';
import { testDatabaseUrl, uniqueName } from '@xray/testing';
import { dropDatabase, ensureDatabase, migrate } from './data-source';
import { MIGRATIONS } from './migrations';

/**
 * A proxy to the local Postgres that behaves like managed Postgres for an app user: any
 * connection to the maintenance database `postgres` is refused with "permission denied".
 */
async function managedPostgresProxy(): Promise<{ port: number; refused: string[]; close(): Promise<void> }> {
  const refused: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onStartup = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 4 || head.length < head.readInt32BE(0)) return;
      client.off('data', onStartup);
      const fields = head.subarray(8, head.readInt32BE(0)).toString('utf8').split('\0');
      const database = fields[fields.indexOf('database') + 1];
      if (database === 'postgres') {
        refused.push(database);
        client.end(errorResponse('42501', 'permission denied for database "postgres"'));
        return;
      }
      const upstream = net.connect(5432, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    client.on('data', onStartup);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    refused,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A FATAL ErrorResponse message of the Postgres wire protocol. */
function errorResponse(code: string, message: string): Buffer {
  const body = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await admin.end();
  }
}

describe('ensureDatabase and migrate', () => {
  const name = uniqueName('xray_ensure');
  let proxy: Awaited<ReturnType<typeof managedPostgresProxy>>;
  const viaProxy = (database: string) => `postgres://postgres@127.0.0.1:${proxy.port}/${database}`;

  beforeAll(async () => {
    proxy = await managedPostgresProxy();
  });
  afterAll(async () => {
    await proxy.close();
    await dropDatabase(testDatabaseUrl(name));
  });

  it('creates a missing database through the maintenance database, once', async () => {
    expect(await ensureDatabase(testDatabaseUrl(name))).toBe(true);
    expect(await databaseExists(name)).toBe(true);
    expect(await ensureDatabase(testDatabaseUrl(name))).toBe(false);
  });

  it('migrates an existing database when the user may not connect to the maintenance database', async () => {
    expect(await ensureDatabase(viaProxy(name))).toBe(false);
    expect(await migrate(viaProxy(name))).toEqual(MIGRATIONS.map((m) => m.name));
    expect(proxy.refused).toEqual([]);
  });

  it('says why when the database is missing and cannot be created', async () => {
    const missing = uniqueName('xray_missing');
    await expect(ensureDatabase(viaProxy(missing))).rejects.toThrow('permission denied for database "postgres"');
    expect(proxy.refused).toEqual(['postgres']);
    expect(await databaseExists(missing)).toBe(false);
  });
});
