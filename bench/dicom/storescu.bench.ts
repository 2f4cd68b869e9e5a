/**
 * DIMSE intake benchmark: `node -r @swc-node/register bench/dicom/storescu.bench.ts [instances] [associations]`
 * (defaults 500 instances over 1 association). Starts the DICOM listener alone (tools/testing
 * system harness: fresh database, Redis prefix and filesystem store), generates CR instances
 * from a real WG04 radiograph (RG3_JPLY, 94 kB, new UIDs) and sends them with DCMTK storescu.
 * Reports instances/second end to end (association to release, every instance stored, recorded
 * and enqueued) and the listener's resident memory (peak of 10 Hz samples, and after).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addDicomNode, createDataSource } from '@xray/db';
import { makeStudyFiles, runTool, sharedPath, startSystem } from '@xray/testing';

const INSTANCES = Number(process.argv[2] ?? 500);
const ASSOCIATIONS = Number(process.argv[3] ?? 1);

/** Resident set size of the process listening on `port` (Linux /proc). */
function listenerRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'xray-dicom-bench-'));
  const system = await startSystem({ apps: ['dicom-listener'] });
  const ds = createDataSource(system.databaseUrl, { poolSize: 1 });
  await ds.initialize();
  try {
    const { clientId } = await system.createClient('bench');
    const source = sharedPath('data', 'dicom', 'wg04', 'RG3_JPLY');
    const study = makeStudyFiles(source, INSTANCES, work);
    const bytes = study.files.reduce((sum, f) => sum + statSync(f).size, 0);
    const pid = Number(
      (
        await runTool('sh', [
          '-c',
          `ss -ltnpH 'sport = :${system.dicomPort}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`,
        ])
      ).stdout.trim(),
    );
    const before = listenerRss(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, listenerRss(pid))), 100);
    const per = Math.ceil(INSTANCES / ASSOCIATIONS);
    const started = performance.now();
    const runs = await Promise.all(
      Array.from({ length: ASSOCIATIONS }, async (_, i) => {
        await addDicomNode(ds, { clientId, aeTitle: `BENCH${i + 1}` });
        const files = study.files.slice(i * per, (i + 1) * per);
        return runTool(
          'storescu',
          ['-R', '-xx', '-aet', `BENCH${i + 1}`, '-aec', 'XRAY', '127.0.0.1', String(system.dicomPort), ...files],
          600_000,
        );
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const failed = runs.filter((r) => r.code !== 0);
    if (failed.length) throw new Error(`storescu failed:\n${failed[0].output.slice(-2000)}`);
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM instances WHERE client_id = $1', [clientId]);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
    console.log(
      JSON.stringify({
        instances: INSTANCES,
        recorded: n,
        associations: ASSOCIATIONS,
        megabytes: Number((bytes / 1024 / 1024).toFixed(1)),
        seconds: Number(seconds.toFixed(2)),
        instancesPerSecond: Number((INSTANCES / seconds).toFixed(1)),
        megabytesPerSecond: Number((bytes / 1024 / 1024 / seconds).toFixed(1)),
        listenerRss: { before: mb(before), peak: mb(peak), after: mb(listenerRss(pid)) },
        cpus: os.cpus().length,
        loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
      }),
    );
  } finally {
    await ds.destroy();
    await system.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
