/**
 * The fault suite (issue 13): `npm run test:faults [-- --only redis,postgres]`, a few minutes.
 *
 * Starts its own redis-server (AOF) and PostgreSQL cluster on free loopback ports (the machine's
 * own servers are never touched), the three built apps on them (tools/testing system harness, the
 * tiny test model), and a webhook receiver. Each scenario gets a client of its own, submits
 * one-image studies with a callback URL at a steady pace for LOAD_S seconds, injects its fault
 * FAULT_AT_S seconds in, then waits (at most DRAIN_S) for every accepted study to finish.
 * The client behaves as docs/api.md asks: every upload carries an Idempotency-Key and is retried
 * with it after a network error, a 429 or a 5xx (after Retry-After).
 *
 * Per scenario it prints studies accepted / completed / lost / duplicated, webhooks sent /
 * duplicated / missing (every signature verified), the outage (from the fault until the component
 * is back and ready) and the recovery time: from the fault's end until every study accepted
 * before then has completed (its study.completed webhook received). Exits non-zero when
 * a study is lost or duplicated, an event is missing or a signature is wrong.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { verifyWebhookSignature } from '@xray/pipeline';
import type { StudyDto } from '@xray/shared';
import {
  makePng,
  startSystem,
  ThrowawayPostgres,
  ThrowawayRedis,
  WebhookReceiver,
  type IssuedClient,
  type RunningSystem,
} from '@xray/testing';

const LOAD_S = 20;
const FAULT_AT_S = 5;
const DRAIN_S = 60;
const SUBMITTERS = 2;
const REDIS_OUTAGE_S = 15;
const POSTGRES_OUTAGE_S = 5;

interface Fault {
  name: string;
  /** Injects the fault and ends it (the component back); resolves when it is back. */
  inject(ctx: Context): Promise<void>;
}

interface Context {
  system: RunningSystem;
  redis: ThrowawayRedis;
  postgres: ThrowawayPostgres;
  /** Starts a large, slow upload on the client; resolves once its bytes are flowing. */
  slowUploadInFlight(): Promise<void>;
}

const SCENARIOS: Fault[] = [
  {
    name: 'inference-worker SIGKILL',
    inject: async ({ system }) => {
      await system.kill('inference-worker', 'SIGKILL');
      await system.restart('inference-worker');
    },
  },
  {
    name: 'explain-worker SIGKILL',
    inject: async ({ system }) => {
      await system.kill('explain-worker', 'SIGKILL');
      await system.restart('explain-worker');
    },
  },
  {
    name: `Redis stopped ${REDIS_OUTAGE_S} s`,
    inject: async ({ redis }) => {
      await redis.stop();
      await sleep(REDIS_OUTAGE_S * 1000);
      await redis.start();
    },
  },
  {
    name: 'PostgreSQL restart',
    inject: async ({ postgres }) => {
      await postgres.stop('immediate');
      await sleep(POSTGRES_OUTAGE_S * 1000);
      await postgres.start();
    },
  },
  {
    name: 'gateway SIGKILL mid-upload',
    inject: async ({ system, slowUploadInFlight }) => {
      await slowUploadInFlight();
      await system.kill('gateway', 'SIGKILL');
      await system.restart('gateway');
    },
  },
];

interface Row {
  scenario: string;
  accepted: number;
  completed: number;
  failed: number;
  lost: number;
  duplicated: number;
  webhooksSent: number;
  webhooksDuplicated: number;
  webhooksMissing: number;
  badSignatures: number;
  /** From the fault's start until the component was back (ready). */
  outageS: number;
  recoveryS: number | null;
  orphanFolders: number;
}

const started = Date.now();
function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : [];
  const scenarios = SCENARIOS.filter((s) => only.length === 0 || only.some((o) => s.name.toLowerCase().includes(o)));
  progress('starting redis-server (AOF), a PostgreSQL cluster, a webhook receiver and the three apps');
  const [redis, postgres] = await Promise.all([new ThrowawayRedis().start(), new ThrowawayPostgres().start()]);
  const receiver = await new WebhookReceiver().start();
  let system: RunningSystem | undefined;
  const rows: Row[] = [];
  try {
    system = await startSystem({
      postgresUrl: postgres.url,
      env: {
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_MAX: '100000',
        QUEUE_SWEEP_INTERVAL_MS: '1000',
        QUEUE_SWEEP_AFTER_MS: '3000',
        STORAGE_SWEEP_INTERVAL_MS: '2000',
        STORAGE_ORPHAN_AGE_MS: '10000',
      },
    });
    const png = await makePng();
    const big = Buffer.alloc(12 * 1024 * 1024, 7); // the gateway dies while this is still arriving
    for (const scenario of scenarios)
      rows.push(await runScenario(scenario, system, redis, postgres, receiver, png, big));
  } finally {
    progress('stopping');
    await system?.stop();
    await receiver.stop();
    await Promise.all([redis.dispose(), postgres.dispose()]);
  }
  printTable(rows);
  const bad = rows.filter(
    (r) => r.lost + r.duplicated + r.webhooksMissing + r.badSignatures > 0 || r.recoveryS === null,
  );
  if (bad.length > 0) {
    console.error(`FAILED: ${bad.map((r) => r.scenario).join(', ')}`);
    process.exitCode = 1;
  }
}

async function runScenario(
  fault: Fault,
  system: RunningSystem,
  redis: ThrowawayRedis,
  postgres: ThrowawayPostgres,
  receiver: WebhookReceiver,
  png: Buffer,
  big: Buffer,
): Promise<Row> {
  const scenarioStart = Date.now();
  const hookPath = `/hooks/${randomUUID()}`;
  const client = await system.createClient(`faults-${fault.name}`);
  const api = new Client(system.url, client, `${receiver.url}${hookPath}`);
  progress(`${fault.name}: load for ${LOAD_S} s, fault at ${FAULT_AT_S} s`);

  let loading = true;
  const submitters = Array.from({ length: SUBMITTERS }, async () => {
    while (loading) {
      await api.submitStudy(png);
      await sleep(100);
    }
  });
  const ticker = setInterval(
    () => progress(`${fault.name}: ${api.accepted.size} accepted, ${api.retries} retries so far`),
    5000,
  );
  const when = { start: 0, end: 0 };
  try {
    await sleep(FAULT_AT_S * 1000);
    progress(`${fault.name}: injecting`);
    when.start = Date.now();
    const slowUploads: Array<Promise<unknown>> = [];
    await fault.inject({
      system,
      redis,
      postgres,
      slowUploadInFlight: async () => {
        const inFlight = api.slowUpload(big);
        slowUploads.push(inFlight.done);
        await inFlight.flowing;
      },
    });
    when.end = Date.now();
    progress(`${fault.name}: back after ${((when.end - when.start) / 1000).toFixed(1)} s`);
    await sleep(Math.max(0, scenarioStart + LOAD_S * 1000 - Date.now()));
    loading = false;
    await Promise.all([...submitters, ...slowUploads]);
  } finally {
    loading = false;
    clearInterval(ticker);
  }
  const acceptedBeforeEnd = [...api.accepted.entries()].filter(([, at]) => at <= when.end).map(([id]) => id);
  progress(`${fault.name}: load over, ${api.accepted.size} accepted; waiting for them to finish`);

  // Every accepted study finished, with its study.completed (or study.failed) webhook.
  const finished = (id: string) =>
    receiver.calls.some(
      (c) => c.path === hookPath && c.status === 200 && c.body?.data?.study?.id === id && isFinal(c.body.type),
    );
  // Every accepted study finished: its final webhook received and its status final in the API.
  const drainDeadline = Date.now() + DRAIN_S * 1000;
  const allFinal = (list: StudyDto[]) => list.every((study) => study.status === 'done' || study.status === 'failed');
  let studies = await api.listStudies();
  while (Date.now() < drainDeadline && !([...api.accepted.keys()].every(finished) && allFinal(studies))) {
    await sleep(500);
    studies = await api.listStudies();
  }

  const byId = new Map(studies.map((s) => [s.id, s]));
  const accepted = [...api.accepted.keys()];
  const calls = receiver.calls.filter((c) => c.path === hookPath);
  const seen = new Set<string>();
  let duplicatedCalls = 0;
  for (const call of calls.filter((c) => c.status === 200)) {
    const eventId = String(call.headers['x-event-id']);
    if (seen.has(eventId)) duplicatedCalls++;
    seen.add(eventId);
  }
  const delivered = calls.filter((c) => c.status === 200);
  const expected = accepted.flatMap((id) => {
    const status = byId.get(id)?.status;
    return [`${id} study.classified`, `${id} ${status === 'failed' ? 'study.failed' : 'study.completed'}`];
  });
  const got = new Set(delivered.map((c) => `${c.body?.data?.study?.id} ${c.body?.type}`));
  const completionTimes = acceptedBeforeEnd.map(
    (id) =>
      delivered.find((c) => c.body?.data?.study?.id === id && isFinal(c.body.type))?.receivedAt ??
      Number.POSITIVE_INFINITY,
  );
  const lastCompletion = Math.max(when.end, ...completionTimes);
  const row: Row = {
    scenario: fault.name,
    accepted: accepted.length,
    completed: accepted.filter((id) => byId.get(id)?.status === 'done').length,
    failed: accepted.filter((id) => byId.get(id)?.status === 'failed').length,
    lost: accepted.filter((id) => !['done', 'failed'].includes(byId.get(id)?.status ?? '')).length,
    // Studies stored for one submission (accession number) beyond the first.
    duplicated: studies.length - new Set(studies.map((s) => s.accessionNumber)).size,
    webhooksSent: calls.length,
    webhooksDuplicated: duplicatedCalls,
    webhooksMissing: expected.filter((key) => !got.has(key)).length,
    badSignatures: calls.filter(
      (c) => !verifyWebhookSignature(client.webhookSecret, c.rawBody, String(c.headers['x-signature'] ?? '')),
    ).length,
    outageS: (when.end - when.start) / 1000,
    recoveryS: Number.isFinite(lastCompletion) ? (lastCompletion - when.end) / 1000 : null,
    orphanFolders: await orphanStudyFolders(system, client.clientId, new Set(studies.map((s) => s.id))),
  };
  for (const id of accepted.filter((i) => !['done', 'failed'].includes(byId.get(i)?.status ?? ''))) {
    const study = byId.get(id);
    progress(
      `${fault.name}: NOT FINISHED ${id}: ${study ? `${study.status}, instances ${study.instances.map((i) => i.status)}` : 'no such study'}`,
    );
  }
  progress(`${fault.name}: done in ${((Date.now() - scenarioStart) / 1000).toFixed(0)} s: ${JSON.stringify(row)}`);
  return row;
}

function isFinal(type: unknown): boolean {
  return type === 'study.completed' || type === 'study.failed';
}

/** Study folders of the client in the object store with no study (left by a killed upload, before the sweeper). */
async function orphanStudyFolders(system: RunningSystem, clientId: string, studyIds: Set<string>): Promise<number> {
  try {
    const dir = path.join(system.storageDir, 'clients', clientId, 'studies');
    return readdirSync(dir).filter((id) => !studyIds.has(id)).length;
  } catch {
    return 0;
  }
}

/** A hospital integration as docs/api.md describes it: Idempotency-Key, retries on 429/5xx/network errors. */
class Client {
  /** Accepted study id -> when the gateway accepted it. */
  readonly accepted = new Map<string, number>();
  retries = 0;
  private submitted = 0;

  constructor(
    private readonly url: string,
    private readonly client: IssuedClient,
    private readonly callbackUrl: string,
  ) {}

  async submitStudy(bytes: Uint8Array, name = 'hand.png'): Promise<void> {
    const accession = `A${++this.submitted}`;
    const key = randomUUID();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const form = new FormData();
      form.append('files', new Blob([new Uint8Array(bytes)]), name);
      form.append('accessionNumber', accession);
      form.append('callbackUrl', this.callbackUrl);
      let wait = 1000;
      try {
        const res = await fetch(`${this.url}/v1/studies`, {
          method: 'POST',
          body: form,
          headers: { Authorization: `Bearer ${this.client.apiKey}`, 'Idempotency-Key': key },
          signal: AbortSignal.timeout(30_000),
        });
        if (res.status === 202 || res.status === 200) {
          const study = (await res.json()) as StudyDto;
          if (!this.accepted.has(study.id)) this.accepted.set(study.id, Date.now());
          return;
        }
        await res.body?.cancel();
        if (res.status !== 429 && res.status < 500) throw new Error(`upload refused: ${res.status}`);
        wait = Number(res.headers.get('retry-after') ?? 1) * 1000;
      } catch (error) {
        if ((error as Error).message.startsWith('upload refused')) throw error;
      }
      this.retries++;
      await sleep(wait);
    }
    throw new Error(`upload ${accession} not accepted within 90 s`);
  }

  /** A large upload sent slowly: `flowing` once bytes are on the wire; `done` once it is accepted (after retries). */
  slowUpload(bytes: Buffer): { flowing: Promise<void>; done: Promise<void> } {
    let flowing!: () => void;
    const started = new Promise<void>((resolve) => (flowing = resolve));
    const chunk = 256 * 1024;
    let sent = 0;
    const slowBody = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(sent, sent + chunk));
        sent += chunk;
        if (sent >= chunk * 4) flowing();
        await sleep(50);
      },
    });
    const boundary = `----faults${randomUUID()}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(head);
        const reader = slowBody.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          controller.enqueue(value);
        }
        controller.enqueue(tail);
        controller.close();
      },
    });
    const attempt = fetch(`${this.url}/v1/studies`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: {
        Authorization: `Bearer ${this.client.apiKey}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
      },
    } as RequestInit);
    // Killed mid-upload: the request fails (nothing accepted, nothing to count); a real client resends it.
    const done = attempt.then(
      async (res) => void (await res.body?.cancel()),
      () => undefined,
    );
    setTimeout(flowing, 5000); // never wait forever for the first bytes
    return { flowing: started, done };
  }

  /** Every study of this client (the API's list, all pages). */
  async listStudies(): Promise<StudyDto[]> {
    const studies: StudyDto[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${this.url}/v1/studies?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
        headers: { Authorization: `Bearer ${this.client.apiKey}` },
      });
      const page = (await res.json()) as { items: StudyDto[]; nextCursor: string | null };
      studies.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return studies;
  }
}

function printTable(rows: Row[]): void {
  const header = [
    'scenario',
    'accepted',
    'completed',
    'failed',
    'lost',
    'duplicated',
    'webhooks sent',
    'webhooks duplicated',
    'webhooks missing',
    'bad signatures',
    'outage (s)',
    'recovery (s)',
    'orphan folders',
  ];
  const cells = rows.map((r) => [
    r.scenario,
    r.accepted,
    r.completed,
    r.failed,
    r.lost,
    r.duplicated,
    r.webhooksSent,
    r.webhooksDuplicated,
    r.webhooksMissing,
    r.badSignatures,
    r.outageS.toFixed(1),
    r.recoveryS === null ? 'never' : r.recoveryS.toFixed(1),
    r.orphanFolders,
  ]);
  const lines = [header, header.map(() => '---'), ...cells.map((c) => c.map(String))];
  console.log(lines.map((line) => `| ${line.join(' | ')} |`).join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
