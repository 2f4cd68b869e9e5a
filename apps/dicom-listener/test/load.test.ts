import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addDicomNode, createDataSource } from '@xray/db';
import { makeStudyFiles, runTool, sharedPath, startSystem, type RunningSystem } from '@xray/testing';
import type { DataSource } from 'typeorm';

/**
 * 4 associations at once (4 senders: three studies, and one study sent half by each of two
 * senders), 100 instances each: nothing lost, nothing duplicated, every instance answered Success.
 */
jest.setTimeout(600_000);

let system: RunningSystem;
let ds: DataSource;
let work: string;
let clientId: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'xray-dicom-load-'));
  system = await startSystem({ apps: ['dicom-listener'], env: { DICOM_MAX_ASSOCIATIONS: '4' } });
  ds = createDataSource(system.databaseUrl, { poolSize: 2 });
  await ds.initialize();
  clientId = (await system.createClient('hospital-load')).clientId;
  for (const ae of ['LOAD1', 'LOAD2', 'LOAD3', 'LOAD4']) await addDicomNode(ds, { clientId, aeTitle: ae });
});

afterAll(async () => {
  await ds?.destroy();
  await system?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('4 concurrent associations x 100 instances: all stored once, grouped by study', async () => {
  // A real 94 kB CR (JPEG Extended, MONOCHROME1) copied with new UIDs.
  const source = sharedPath('data', 'dicom', 'wg04', 'RG3_JPLY');
  const studies = [0, 1, 2].map((i) => makeStudyFiles(source, 100, mkdtempSync(path.join(work, `s${i}-`))));
  const shared = makeStudyFiles(source, 100, mkdtempSync(path.join(work, 'shared-')));
  const batches = [
    studies[0].files,
    studies[1].files,
    [...studies[2].files.slice(0, 50), ...shared.files.slice(0, 50)],
    [...studies[2].files.slice(50), ...shared.files.slice(50)],
  ];
  const runs = await Promise.all(
    batches.map((files, i) =>
      runTool(
        'storescu',
        ['-v', '-R', '-xx', '-aet', `LOAD${i + 1}`, '-aec', 'XRAY', '127.0.0.1', String(system.dicomPort), ...files],
        300_000,
      ),
    ),
  );
  for (const run of runs) {
    expect(run.code).toBe(0);
    expect(run.output.match(/Received Store Response \(Success\)/g)?.length).toBe(100);
  }
  const rows: Array<{ study_instance_uid: string; n: number; distinct_sop: number }> = await ds.query(
    `SELECT s.study_instance_uid, count(*)::int AS n, count(DISTINCT i.sop_instance_uid)::int AS distinct_sop
       FROM instances i JOIN studies s ON s.id = i.study_id WHERE i.client_id = $1 GROUP BY 1`,
    [clientId],
  );
  const expected = [...studies, shared].map((s) => ({
    study_instance_uid: s.studyInstanceUid,
    n: 100,
    distinct_sop: 100,
  }));
  expect(rows.sort((a, b) => a.study_instance_uid.localeCompare(b.study_instance_uid))).toEqual(
    expected.sort((a, b) => a.study_instance_uid.localeCompare(b.study_instance_uid)),
  );
  const positions = await ds.query(
    'SELECT count(*)::int AS n FROM (SELECT study_id, position FROM instances WHERE client_id = $1 GROUP BY 1, 2 HAVING count(*) > 1) d',
    [clientId],
  );
  expect(positions[0].n).toBe(0);
});
