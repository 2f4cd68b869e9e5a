/**
 * Throwaway DICOM destinations for the export tests, on loopback ports: DCMTK storescp and an
 * Orthanc with its DICOMweb plugin (and, when asked, its DICOM server for C-STORE). CI installs
 * them with apt; a missing one fails the test instead of skipping it.
 * (tools/testing/orthanc.ts from the DICOM ingest work is the shared Orthanc harness; once merged
 * this Orthanc should be replaced by it.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { requireTool } from './dicom-tools';
import { freePort } from './system';

export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancDicomWeb {
  url: string;
  dicomWebRoot: string;
  /** The DICOM server's AE title and port, when started with `dicom`. */
  dicom?: { aeTitle: string; port: number };
  stop(): Promise<void>;
}

/**
 * Orthanc 1.10 has no bind-address option: RemoteAccessAllowed=false makes its HTTP server refuse
 * every host but the loopback; its DICOM server (only with `dicom`) listens on all interfaces.
 */
export async function startOrthancDicomWeb(
  dir: string,
  options: { dicom?: { aeTitle: string } } = {},
): Promise<OrthancDicomWeb> {
  requireTool('Orthanc');
  if (!existsSync(DICOMWEB_PLUGIN)) throw new Error(`${DICOMWEB_PLUGIN} missing: apt-get install orthanc-dicomweb`);
  const port = await freePort();
  const dicomPort = options.dicom ? await freePort() : undefined;
  const config = path.join(dir, 'orthanc.json');
  writeFileSync(
    config,
    JSON.stringify({
      Name: 'XRAY-TEST',
      StorageDirectory: path.join(dir, 'storage'),
      IndexDirectory: path.join(dir, 'index'),
      HttpPort: port,
      DicomServerEnabled: !!options.dicom,
      ...(options.dicom ? { DicomAet: options.dicom.aeTitle, DicomPort: dicomPort, DicomAlwaysAllowStore: true } : {}),
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      Plugins: [DICOMWEB_PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true },
    }),
  );
  const child = spawn('Orthanc', [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited: ${log.slice(-2000)}`);
    const up = await fetch(`${url}/system`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 200) throw new Error(`Orthanc did not start: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dicomWebRoot: `${url}/dicom-web`,
    ...(options.dicom ? { dicom: { aeTitle: options.dicom.aeTitle, port: dicomPort! } } : {}),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** DCMTK storescp as a throwaway DICOM destination on a loopback port. */
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
