import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { isDatabaseUnavailable } from '@xray/db';
import type { Job } from 'bullmq';
import {
  QueueWorker,
  StageTimer,
  watchWorker,
  type HealthCheck,
  type ProgressHeartbeat,
  type QueueWorkerOptions,
  type RuntimeMemory,
  type XrayMetrics,
} from '@xray/platform';
import type { JobOutcome, QueueName } from '@xray/shared';
import type { JobPayloads } from '../queues';

/** What a model worker's thread host offers its queue worker. */
export interface ModelWorkerHost {
  readiness(): HealthCheck;
  memory(): RuntimeMemory | undefined;
  close(): Promise<void>;
}

export interface ModelQueueWorkerOptions extends QueueWorkerOptions {
  model: ModelWorkerHost;
  metrics: XrayMetrics;
  heartbeat: ProgressHeartbeat;
}

/**
 * A queue worker whose jobs run a model in a thread (the inference and explain workers): ready
 * only once the model is, watched by the progress heartbeat, closes the model after draining,
 * and times each job's stages (bench/pipeline sums the `job stages` debug lines).
 */
export abstract class ModelQueueWorker<N extends QueueName>
  extends QueueWorker<JobPayloads[N]>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly host: ModelWorkerHost;
  private readonly watch: { metrics: XrayMetrics; heartbeat: ProgressHeartbeat };

  protected constructor(queueName: N, { model, metrics, heartbeat, ...options }: ModelQueueWorkerOptions) {
    // A PostgreSQL outage puts jobs back instead of failing them for good (QueueWorker's isOutage).
    super(queueName, {
      isOutage: isDatabaseUnavailable,
      ...options,
      readiness: [...options.readiness, model.readiness()],
    });
    this.host = model;
    this.watch = { metrics, heartbeat };
    metrics.addMemoryProbe('tfjs', () => model.memory());
  }

  protected abstract handleTimed(job: Job<JobPayloads[N]>, stages: StageTimer): Promise<JobOutcome>;

  onApplicationBootstrap(): void {
    this.start();
    watchWorker(this.bullWorker!, this.watch);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
    await this.host.close();
  }

  protected async handle(job: Job<JobPayloads[N]>): Promise<JobOutcome> {
    const stages = new StageTimer();
    const outcome = await this.handleTimed(job, stages);
    this.options.logger.debug(
      { instanceId: (job.data as { instanceId?: string }).instanceId, outcome, stages: stages.rounded() },
      'job stages',
    );
    return outcome;
  }
}
