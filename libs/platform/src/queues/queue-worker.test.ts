import type { JobOutcome } from '@xray/shared';
import type { Job, Queue } from 'bullmq';
import { TEST_REDIS_URL, uniqueName } from '@xray/testing';
import { loadConfig, type AppConfig } from '../config';
import { createLogger } from '../logging/logger';
import { createQueue } from './producer';
import { QueueWorker, type QueueWorkerOptions } from './queue-worker';

interface TestJob {
  instanceId: string;
  correlationId: string;
}

/** BullMQ priorities: lower runs first. */
const PRIORITY = { stat: 1, routine: 5 };

/** A worker whose handler the test scripts, on the real local Redis. */
class ScriptedWorker extends QueueWorker<TestJob> {
  handled: string[] = [];
  finalFailures: string[] = [];
  script: (job: Job<{ instanceId: string }>) => Promise<JobOutcome> = async () => 'success';

  constructor(
    config: AppConfig,
    readonly gate = { open: false },
    extra: Partial<QueueWorkerOptions> = {},
  ) {
    const check = () => {
      if (!gate.open) throw new Error('closed');
    };
    super('inference', {
      config,
      logger: createLogger('test', 'silent'),
      concurrency: 1,
      readiness: [{ name: 'gate', check }],
      ...extra,
    });
  }

  protected async handle(job: Job<any>): Promise<JobOutcome> {
    this.handled.push(job.data.instanceId);
    return this.script(job);
  }

  protected override async onFinalFailure(job: Job<any>): Promise<void> {
    this.finalFailures.push(job.data.instanceId);
  }
}

const until = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

let config: AppConfig;
let queue: Queue<TestJob>;
let worker: ScriptedWorker | undefined;
const job = (instanceId: string): TestJob => ({ instanceId, correlationId: 'corr' });

beforeEach(() => {
  config = loadConfig('inference-worker', {
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('xqw'),
    JOB_BACKOFF_MS: '10',
    JOB_ATTEMPTS: '3',
    SHUTDOWN_TIMEOUT_MS: '300',
  });
  queue = createQueue<TestJob>('inference', config);
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await queue.obliterate({ force: true });
  await queue.close();
});

it('takes no job before its readiness checks pass, then runs stat studies first', async () => {
  worker = new ScriptedWorker(config);
  worker.start();
  for (const id of ['r1', 'r2', 'r3']) await queue.add('classify', job(id), { priority: PRIORITY.routine });
  await queue.add('classify', job('stat'), { priority: PRIORITY.stat });
  await new Promise((r) => setTimeout(r, 1500));
  expect(worker.handled).toEqual([]); // paused: the gate is closed
  worker.gate.open = true;
  await until(() => worker!.handled.length === 4);
  expect(worker.handled[0]).toBe('stat');
});

it("retries thrown errors with backoff, but not a handler's 'failed' outcome", async () => {
  worker = new ScriptedWorker(config);
  worker.gate.open = true;
  worker.script = async (j) => {
    if (j.data.instanceId === 'flaky') throw new Error('storage hiccup');
    return j.data.instanceId === 'bad' ? 'failed' : 'success';
  };
  worker.start();
  await queue.add('classify', job('flaky'));
  await queue.add('classify', job('bad'));
  await until(() => worker!.finalFailures.length === 1 && worker!.handled.length === 4);
  expect(worker.handled.filter((id) => id === 'flaky')).toHaveLength(3);
  expect(worker.handled.filter((id) => id === 'bad')).toHaveLength(1);
  expect(worker.finalFailures).toEqual(['flaky']); // 'bad' recorded its own failure
});

it('puts a job back without using an attempt while a dependency is down, then runs it', async () => {
  class Outage extends Error {}
  worker = new ScriptedWorker(config, { open: true }, { isOutage: (e) => e instanceof Outage, outageRetryMs: 50 });
  let outageLeft = 5; // more than JOB_ATTEMPTS (3): without the outage rule the job would fail for good
  worker.script = async () => {
    if (outageLeft-- > 0) throw new Outage('database down');
    return 'success';
  };
  worker.start();
  await queue.add('classify', job('during-outage'));
  await until(() => worker!.handled.length === 6);
  let completed = 0;
  for (let tries = 0; completed === 0 && tries < 100; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    completed = (await queue.getJobCounts('completed')).completed;
  }
  expect(completed).toBe(1);
  expect(worker.finalFailures).toEqual([]);
  const [done] = await queue.getJobs(['completed']);
  expect(done.attemptsMade).toBeLessThanOrEqual(1);
});

it('on stop, lets the current job finish within the shutdown timeout', async () => {
  worker = new ScriptedWorker(config);
  worker.gate.open = true;
  let finished = false;
  worker.script = async () => {
    await new Promise((r) => setTimeout(r, 150));
    finished = true;
    return 'success';
  };
  worker.start();
  await queue.add('classify', job('a'));
  await until(() => worker!.handled.length === 1);
  await worker.stop();
  expect(finished).toBe(true);
  expect(await queue.getJobCounts('completed', 'active')).toMatchObject({ completed: 1, active: 0 });
});
