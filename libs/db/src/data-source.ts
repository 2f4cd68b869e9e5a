import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** A TypeORM data source for the app's database. Schema changes only through migrations. */
export function createDataSource(databaseUrl: string, options: { poolSize?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize: options.poolSize ?? 10,
    applicationName: 'xray',
  });
}

/** Postgres error codes ensureDatabase tells apart. */
const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';

/**
 * Creates the database named in the URL when it does not exist yet. The target database is
 * tried first: on managed Postgres the app's user often may connect to its own database only,
 * so the maintenance database (`/postgres`) is used only to create a missing one.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new Client({ connectionString: databaseUrl });
  try {
    await target.connect();
    await target.end();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
  }
  return withMaintenanceDatabase(databaseUrl, async (admin, quotedName) => {
    try {
      await admin.query(`CREATE DATABASE ${quotedName}`);
      return true;
    } catch (error) {
      // Another migrator created it meanwhile.
      if ((error as { code?: string }).code === DUPLICATE_DATABASE) return false;
      throw error;
    }
  });
}

/** Drops a database (tests and the system harness only). */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  await withMaintenanceDatabase(databaseUrl, (admin, quotedName) =>
    admin.query(`DROP DATABASE IF EXISTS ${quotedName} WITH (FORCE)`),
  );
}

/** Creates the database if needed and applies pending migrations; returns their names. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = createDataSource(databaseUrl, { poolSize: 1 });
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/**
 * Readiness of the database: connects when the app booted while Postgres was down, and
 * refuses a schema with pending migrations (apps never migrate on their own).
 */
export async function checkDatabase(ds: DataSource): Promise<void> {
  if (!ds.isInitialized) await ds.initialize();
  await ds.query('SELECT 1');
  if (await ds.showMigrations())
    throw new Error('the database schema is not up to date: run `npm run migrate` (or `npx xray migrate`)');
}

/** Runs `work` connected to the server's `postgres` database, with the URL's database name quoted as an identifier. */
async function withMaintenanceDatabase<T>(
  databaseUrl: string,
  work: (admin: Client, quotedName: string) => Promise<T>,
): Promise<T> {
  const url = new URL(databaseUrl);
  const quotedName = `"${decodeURIComponent(url.pathname.slice(1)).replace(/"/g, '""')}"`;
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    return await work(admin, quotedName);
  } finally {
    await admin.end();
  }
}
