import type { Command } from 'commander';

export function databaseUrl(): string {
  return process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/xray';
}

/** Creates the database when missing and applies pending migrations (the one-shot job for deployments). */
export async function migrateDatabase(log: (line: string) => void): Promise<void> {
  const { migrate } = await import('@xray/db');
  const url = databaseUrl();
  const applied = await migrate(url);
  const where = new URL(url);
  log(
    applied.length
      ? `migrated ${where.host}${where.pathname}: ${applied.join(', ')}`
      : `${where.host}${where.pathname} is up to date`,
  );
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('create the database if needed and apply pending migrations (uses DATABASE_URL)')
    .action(async () => {
      await migrateDatabase((line) => console.log(line));
    });
}
