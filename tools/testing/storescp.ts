/**
 * DCMTK storescp as a throwaway DICOM destination on a loopback port. CI installs dcmtk with apt;
 * a missing storescp fails the test instead of skipping it. (Orthanc: ./orthanc.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { requireTool } from './dicom-tools';

export interface StoreScp {
  port: number;
  aeTitle: string;
  dir: string;
  /** Files received so far (storescp names them <SOP class abbreviation>.<SOPInstanceUID>: SRc., SC.). */
  received(): string[];
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startStoreScp(options: {
  port: number;
  dir: string;
  aeTitle?: string;
  refuse?: boolean;
}): Promise<StoreScp> {
  requireTool('storescp');
  const aeTitle = options.aeTitle ?? 'STORESCP';
  const args = ['-aet', aeTitle, '-od', options.dir, ...(options.refuse ? ['--refuse'] : []), String(options.port)];
  const child: ChildProcess = spawn('storescp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !(await portOpen(options.port)); i++) {
    if (child.exitCode !== null) throw new Error(`storescp exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: options.port,
    aeTitle,
    dir: options.dir,
    received: () => readdirSync(options.dir).map((name) => path.join(options.dir, name)),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
