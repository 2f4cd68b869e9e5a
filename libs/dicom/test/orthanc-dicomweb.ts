/**
 * A throwaway Orthanc with its DICOMweb plugin, HTTP only (DICOM server off), local access only,
 * storage in a temp folder. Orthanc 1.10 has no bind-address option; RemoteAccessAllowed=false
 * makes it refuse every host but the loopback. (tools/testing/orthanc.ts from the ingest work
 * is the shared harness; this one is kept minimal for the STOW-RS client test.)
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@xray/testing';
import { requireTool } from './dicom-tools';

export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancDicomWeb {
  url: string;
  dicomWebRoot: string;
  stop(): Promise<void>;
}

export async function startOrthancDicomWeb(dir: string): Promise<OrthancDicomWeb> {
  requireTool('Orthanc');
  if (!existsSync(DICOMWEB_PLUGIN)) throw new Error(`${DICOMWEB_PLUGIN} missing: apt-get install orthanc-dicomweb`);
  const port = await freePort();
  const config = path.join(dir, 'orthanc.json');
  writeFileSync(
    config,
    JSON.stringify({
      Name: 'XRAY-TEST',
      StorageDirectory: path.join(dir, 'storage'),
      IndexDirectory: path.join(dir, 'index'),
      HttpPort: port,
      DicomServerEnabled: false,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      Plugins: [DICOMWEB_PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
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
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
