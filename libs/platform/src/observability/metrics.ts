import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Job states exported per queue; BullMQ counts them on every scrape. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** The part of a BullMQ Queue the metrics need (kept narrow so tests and callers stay simple). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...states: QueueState[]): Promise<Record<string, number>>;
}

export type JobOutcomeLabel = 'completed' | 'failed';
/** delivered: 2xx; retrying: attempt failed, another is scheduled; failed: gave up (attempts exhausted or permanent). */
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';
/** What happened to one DICOM object sent to one destination. */
export type DicomExportOutcome = 'delivered' | 'retrying' | 'failed';
export type ModelPhase = 'classify' | 'explain';

/** Memory held by a model runtime (tfjs tensors, ORT arenas), sampled on scrape. */
export interface RuntimeMemory {
  bytes: number;
  tensors?: number;
}
export type MemoryProbe = () => RuntimeMemory | undefined;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * Every Prometheus metric of one app, in its own registry (so tests and several apps in one
 * process never collide). The pipeline calls the small `observe*` / `record*` methods; queue
 * counts and runtime memory are pulled on scrape.
 */
export class XrayMetrics {
  readonly registry: Registry;
  private readonly queues = new Map<string, CountableQueue>();
  private readonly memoryProbes = new Map<string, MemoryProbe>();

  private readonly jobDuration: Histogram<'queue' | 'outcome'>;
  private readonly jobWait: Histogram<'queue'>;
  private readonly modelTimePerImage: Histogram<'phase'>;
  private readonly batchSize: Histogram<'phase'>;
  private readonly modelSeconds: Counter<'phase'>;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly webhookAttempts: Histogram<'outcome'>;
  private readonly dicomExports: Counter<'kind' | 'outcome' | 'transport'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(options: { app: string; defaultMetrics?: boolean }) {
    this.registry = new Registry();
    this.registry.setDefaultLabels({ app: options.app });
    if (options.defaultMetrics !== false) {
      // process CPU/memory/handles, GC and event-loop lag (nodejs_eventloop_lag_*).
      collectDefaultMetrics({ register: this.registry, prefix: 'xray_' });
    }
    const registers = [this.registry];

    const queues = this.queues;
    new Gauge({
      name: 'xray_queue_jobs',
      help: 'Jobs per BullMQ queue and state, counted on scrape.',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        await Promise.all(
          [...queues.values()].map(async (queue) => {
            const counts = await queue.getJobCounts(...QUEUE_STATES);
            for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }),
        );
      },
    });
    const probes = this.memoryProbes;
    new Gauge({
      name: 'xray_model_runtime_memory_bytes',
      help: 'Memory held by the model runtime (tfjs tensors, ONNX Runtime) where it reports it.',
      labelNames: ['runtime'],
      registers,
      collect() {
        this.reset();
        for (const [runtime, probe] of probes) {
          const memory = probe();
          if (memory) this.set({ runtime }, memory.bytes);
        }
      },
    });
    new Gauge({
      name: 'xray_model_runtime_tensors',
      help: 'Live tensors held by the model runtime where it reports them.',
      labelNames: ['runtime'],
      registers,
      collect() {
        this.reset();
        for (const [runtime, probe] of probes) {
          const memory = probe();
          if (memory?.tensors !== undefined) this.set({ runtime }, memory.tensors);
        }
      },
    });

    this.jobDuration = new Histogram({
      name: 'xray_job_duration_seconds',
      help: 'Time a job spent being processed (processedOn to finishedOn).',
      labelNames: ['queue', 'outcome'],
      buckets: SECONDS,
      registers,
    });
    this.jobWait = new Histogram({
      name: 'xray_job_queue_wait_seconds',
      help: 'Time a job waited in its queue before a worker took it (timestamp to processedOn).',
      labelNames: ['queue'],
      buckets: SECONDS,
      registers,
    });
    this.modelTimePerImage = new Histogram({
      name: 'xray_model_time_per_image_seconds',
      help: 'Model time per image (batch time divided by batch size).',
      labelNames: ['phase'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.modelSeconds = new Counter({
      name: 'xray_model_seconds_total',
      help: 'Model time of every model call (the sum over batches, not per image).',
      labelNames: ['phase'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'xray_model_batch_size',
      help: 'Images per model call.',
      labelNames: ['phase'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'xray_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.dicomExports = new Counter({
      name: 'xray_dicom_objects_exported_total',
      help: 'DICOM result objects sent to a destination, by object kind (sr, sc), outcome and transport (dimse, stow).',
      labelNames: ['kind', 'outcome', 'transport'],
      registers,
    });
    this.webhookAttempts = new Histogram({
      name: 'xray_webhook_delivery_attempts',
      help: 'Attempt number at which a webhook delivery ended (delivered or failed).',
      labelNames: ['outcome'],
      buckets: [1, 2, 3, 5, 8, 12, 20],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'xray_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS,
      registers,
    });
  }

  /** Counts of these queues are exported as xray_queue_jobs{queue,state} on every scrape. */
  watchQueues(queues: CountableQueue[]): void {
    for (const queue of queues) this.queues.set(queue.name, queue);
  }

  /** Samples runtime memory on scrape, e.g. `() => ({ bytes: tf.memory().numBytes, tensors: tf.memory().numTensors })`. */
  addMemoryProbe(runtime: string, probe: MemoryProbe): void {
    this.memoryProbes.set(runtime, probe);
  }

  observeJob(queue: string, outcome: JobOutcomeLabel, durationMs: number, queueWaitMs?: number): void {
    this.jobDuration.observe({ queue, outcome }, durationMs / 1000);
    if (queueWaitMs !== undefined && queueWaitMs >= 0) this.jobWait.observe({ queue }, queueWaitMs / 1000);
  }

  /** One model call: `batchMs` for `batchSize` images. */
  observeModelTime(batchMs: number, batchSize: number, phase: ModelPhase = 'classify'): void {
    if (batchSize < 1) return;
    this.batchSize.observe({ phase }, batchSize);
    this.modelSeconds.inc({ phase }, batchMs / 1000);
    this.modelTimePerImage.observe({ phase }, batchMs / 1000 / batchSize);
  }

  /** One delivery attempt; `attempt` counts from 1. */
  recordWebhookDelivery(outcome: WebhookOutcome, attempt: number): void {
    this.webhookDeliveries.inc({ outcome });
    if (outcome !== 'retrying') this.webhookAttempts.observe({ outcome }, attempt);
  }

  /** One DICOM object's delivery attempt to one destination. */
  recordDicomExport(kind: string, outcome: DicomExportOutcome, transport: string): void {
    this.dicomExports.inc({ kind, outcome, transport });
  }

  observeHttp(method: string, route: string, status: number, durationMs: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, durationMs / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
