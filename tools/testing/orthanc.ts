import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireTool } from './dicom-tools';
import { freePort } from './system';

// dcmjs ships no types; a local require keeps this test helper from declaring them for everyone.
const dcmjs: any = require('dcmjs');

export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

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
  /** Its DICOMweb root (QIDO/WADO/STOW-RS), e.g. a `--stow` destination. */
  dicomWebRoot: string;
  /** Its DICOM server (C-STORE SCP, any calling AE), e.g. a `--dicom AE@127.0.0.1:port` destination. */
  aeTitle: string;
  dicomPort: number;
  /** POST /instances (a file's path or its bytes): returns Orthanc's ids of the instance and its study. */
  upload(file: string | Uint8Array): Promise<{ instanceId: string; studyId: string }>;
  /** Orthanc's REST API, JSON (or a bare string) in, JSON out; throws on a non-2xx answer. */
  post(pathname: string, body: unknown): Promise<any>;
  /** Orthanc's ids of the instances of a study (by StudyInstanceUID); [] when it has none. */
  studyInstanceIds(studyInstanceUid: string): Promise<string[]>;
  /** Every instance of a study as stored in Orthanc, read back and naturalized by dcmjs. */
  studyDatasets(studyInstanceUid: string): Promise<Array<Record<string, any>>>;
  /** The SOP Instance UIDs of a study through DICOMweb QIDO-RS, sorted. */
  qidoInstanceUids(studyInstanceUid: string): Promise<string[]>;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * A real Orthanc (Debian package `orthanc`, plugin `orthanc-dicomweb`) on free ports with a
 * temporary storage directory: a PACS that sends to the system under test (`targets`) and takes
 * results back (C-STORE to its DICOM server, STOW-RS to its DICOMweb root). Orthanc 1.10 has no
 * bind-address option: RemoteAccessAllowed=false makes its HTTP server refuse every host but the
 * loopback; its DICOM server listens on all interfaces. CI installs it with apt; a missing
 * Orthanc or plugin fails the test instead of skipping it.
 */
export async function startOrthanc(targets: OrthancTargets = {}, aeTitle = 'ORTHANC'): Promise<RunningOrthanc> {
  requireTool('Orthanc');
  if (!existsSync(DICOMWEB_PLUGIN)) throw new Error(`${DICOMWEB_PLUGIN} missing: apt-get install orthanc-dicomweb`);
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
    DicomAlwaysAllowStore: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpsVerifyPeers: false,
    DicomScuTimeout: 30,
    HttpTimeout: 60,
    Plugins: [DICOMWEB_PLUGIN],
    DicomModalities: targets.modality
      ? { xray: [targets.modality.aeTitle, targets.modality.host, targets.modality.port] }
      : {},
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      EnableWado: true,
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

  // A string is sent as is (e.g. /tools/lookup takes a bare UID), anything else as JSON.
  const post = async (pathname: string, body: unknown) => {
    const res = await fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc POST ${pathname}: ${res.status} ${text}\n${logs().slice(-2000)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const getJson = async (pathname: string) => {
    const res = await fetch(`${url}${pathname}`);
    if (!res.ok) throw new Error(`Orthanc GET ${pathname}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const studyInstanceIds = async (studyInstanceUid: string): Promise<string[]> => {
    const found: Array<{ Type: string; ID: string }> = await post('/tools/lookup', studyInstanceUid);
    const study = found.find((r) => r.Type === 'Study');
    if (!study) return [];
    return ((await getJson(`/studies/${study.ID}/instances`)) as Array<{ ID: string }>).map((i) => i.ID);
  };
  const dicomWebRoot = `${url}/dicom-web`;
  return {
    url,
    dicomWebRoot,
    aeTitle,
    dicomPort,
    async upload(file) {
      const bytes = typeof file === 'string' ? readFileSync(file) : file;
      const res = await fetch(`${url}/instances`, { method: 'POST', body: new Uint8Array(bytes) });
      const name = typeof file === 'string' ? file : `${bytes.length} bytes`;
      if (!res.ok) throw new Error(`Orthanc upload of ${name}: ${res.status} ${await res.text()}`);
      const answer = (await res.json()) as { ID: string; ParentStudy: string };
      return { instanceId: answer.ID, studyId: answer.ParentStudy };
    },
    post,
    studyInstanceIds,
    async studyDatasets(studyInstanceUid) {
      const ids = await studyInstanceIds(studyInstanceUid);
      return Promise.all(
        ids.map(async (id) => {
          const bytes = new Uint8Array(await (await fetch(`${url}/instances/${id}/file`)).arrayBuffer());
          return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(bytes.buffer).dict);
        }),
      );
    },
    async qidoInstanceUids(studyInstanceUid) {
      const res = await fetch(`${dicomWebRoot}/studies/${studyInstanceUid}/instances`, {
        headers: { Accept: 'application/dicom+json' },
      });
      if (res.status !== 200) return [];
      return ((await res.json()) as Array<Record<string, { Value: string[] }>>)
        .map((i) => i['00080018'].Value[0])
        .sort();
    },
    logs,
    stop,
  };
}
