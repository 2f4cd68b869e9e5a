import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './system';
import { waitForPort } from './throwaway-redis';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries of the Debian packages (/usr/lib/postgresql/<version>/bin). */
function postgresBin(tool: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(root, v, 'bin', tool)).find((p) => existsSync(p));
  if (!found) throw new Error(`${tool} not found under ${root} (install the postgresql package)`);
  return found;
}

/**
 * A private PostgreSQL cluster (initdb + pg_ctl) on a free loopback port, trust auth, for
 * tests that stop and start the database; the machine's own server is never touched. initdb
 * refuses to run as root, so as root the cluster belongs to the `postgres` user.
 */
export class ThrowawayPostgres {
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'xray-pg-'));
  private readonly data = path.join(this.dir, 'data');
  private initialised = false;
  port = 0;

  /** The server URL without a database (append `/<name>`). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  private async as(tool: string, args: string[]): Promise<void> {
    const asRoot = process.getuid?.() === 0;
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', postgresBin(tool), ...args]]
      : [postgresBin(tool), args];
    await run(cmd, argv, { timeout: 60_000 });
  }

  async start(): Promise<this> {
    if (!this.initialised) {
      if (process.getuid?.() === 0)
        chownSync(
          this.dir,
          Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
          Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
        );
      await this.as('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
      this.port = await freePort();
      this.initialised = true;
    }
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off`;
    await this.as('pg_ctl', ['-D', this.data, '-o', options, '-l', path.join(this.dir, 'log'), '-w', 'start']);
    await waitForPort(this.port, 10_000);
    return this;
  }

  /** Stops the server; `immediate` is a crash-like stop (no checkpoint, clients cut off). */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    if (!this.initialised) return;
    await this.as('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    await this.stop('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
