import * as path from 'node:path';
import {
  DynamicBatcher,
  ModelThread,
  type AppConfig,
  type HealthCheck,
  type Logger,
  type RuntimeMemory,
} from '@xray/platform';
import type { ClassifyOutcome, ClassifyRequest, ClassifyResponse, ModelInfo } from './protocol';

/**
 * The model thread plus the dynamic batcher in front of it: concurrent jobs' images are
 * classified together, up to INFERENCE_BATCH_SIZE or after INFERENCE_BATCH_WAIT_MS.
 */
export class ModelHost {
  private readonly thread: ModelThread<ClassifyRequest, ClassifyResponse, ModelInfo>;
  private readonly batcher: DynamicBatcher<Uint8Array, ClassifyOutcome>;
  /** Called with each batch's model time and size (metrics). */
  onBatch?: (modelMs: number, size: number) => void;

  constructor(config: AppConfig, logger?: Logger) {
    this.thread = new ModelThread(
      path.join(__dirname, 'model.thread.js'),
      { modelDir: config.modelDir, engine: config.engine },
      logger,
    );
    this.batcher = new DynamicBatcher(
      async (images) => {
        const { outcomes, modelMs } = await this.thread.call({ images });
        this.onBatch?.(modelMs, outcomes.filter((o) => o.ok).length);
        return outcomes;
      },
      config.inference.batchSize,
      config.inference.batchWaitMs,
    );
  }

  get model(): ModelInfo {
    return this.thread.info;
  }

  /** tfjs memory after the latest batch, when tfjs serves the model (a metrics probe). */
  memory(): RuntimeMemory | undefined {
    return this.thread.memory();
  }

  readiness(): HealthCheck {
    return this.thread.readiness();
  }

  classify(image: Uint8Array): Promise<ClassifyOutcome> {
    return this.batcher.submit(image);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
