import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireTool } from './dicom-tools';
import { freePort } from './system';

/** Where Orthanc sends: our listener (C-STORE) and our gateway's DICOMweb root (STOW-RS). */
export interface OrthancTargets {
  /** The DICOM listener, registered as modality `xray`. */
  modality?: { aeTitle: string; host: string; port: number };
  /** The gateway's DICOMweb root (…/dicomweb/) with its API key, registered as DICOMweb server `xray`. */
  dicomweb?: { url: string; apiKey: string };
}

export interface RunningOrthanc {
  /** Orthanc's REST API. */
  url: string;
  aeTitle: string;
  /** POST /instances: returns Orthanc's ids of the instance and its study. */
  upload(file: string): Promise<{ instanceId: string; studyId: string }>;
  /** Orthanc's REST API, JSON in and out; throws on a non-2xx answer. */
  post(pathname: string, body: unknown): Promise<any>;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * A real Orthanc (Debian package `orthanc`, plugin `orthanc-dicomweb`) on free loopback
 * ports with a temporary storage directory, configured to send to the system under test.
 */
export async function startOrthanc(targets: OrthancTargets, aeTitle = 'ORTHANC'): Promise<RunningOrthanc> {
  requireTool('Orthanc');
  const work = mkdtempSync(path.join(os.tmpdir(), 'xray-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const config = {
    Name: 'xray-test',
    StorageDirectory: path.join(work, 'db'),
    IndexDirectory: path.join(work, 'db'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aeTitle,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpsVerifyPeers: false,
    DicomScuTimeout: 30,
    HttpTimeout: 60,
    Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'],
    DicomModalities: targets.modality
      ? { xray: [targets.modality.aeTitle, targets.modality.host, targets.modality.port] }
      : {},
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      Servers: targets.dicomweb
        ? { xray: { Url: targets.dicomweb.url, HttpHeaders: { Authorization: `Bearer ${targets.dicomweb.apiKey}` } } }
        : {},
    },
  };
  const configFile = path.join(work, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(work, 'orthanc.log');
  const child: ChildProcess = spawn('Orthanc', [configFile, `--logfile=${logFile}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${httpPort}`;
  const logs = () => {
    try {
      return readFileSync(logFile, 'utf8') + stderr;
    } catch {
      return stderr;
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(work, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited (${child.exitCode}):\n${logs().slice(-3000)}`);
    try {
      if ((await fetch(`${url}/system`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc not ready after 60 s:\n${logs().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  const post = async (pathname: string, body: unknown) => {
    const res = await fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc POST ${pathname}: ${res.status} ${text}\n${logs().slice(-2000)}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    aeTitle,
    async upload(file) {
      const res = await fetch(`${url}/instances`, { method: 'POST', body: readFileSync(file) });
      if (!res.ok) throw new Error(`Orthanc upload of ${file}: ${res.status} ${await res.text()}`);
      const answer = (await res.json()) as { ID: string; ParentStudy: string };
      return { instanceId: answer.ID, studyId: answer.ParentStudy };
    },
    post,
    logs,
    stop,
  };
}
