import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Transferable } from 'node:worker_threads';
import type { PreprocessingSpec } from '@xray/shared';
import type { Logger } from '../logging/logger';
import type { HealthCheck } from '../observability/health';
import type { RuntimeMemory } from '../observability/metrics';
import { ThreadHost } from './thread-host';

/** Which engine serves the model (readiness detail and the start-up log). */
export interface ModelRuntime {
  /** 'onnx' or 'tfjs'. */
  engine: string;
  /** e.g. 'cpu', 'cuda', 'wasm', 'tensorflow'. */
  backend: string;
  threads: number;
  /** The explain worker: the engine computing Grad-CAM++ when it is not `engine` (no ONNX graph for the layer). */
  explainEngine?: string;
  /** Why part of the work runs on another engine than the one chosen (logged as a warning). */
  fallback?: string;
}

/** What the model thread receives as workerData. */
export interface ModelThreadData {
  modelDir: string;
  /** ENGINE: onnx | tfjs | auto. */
  engine: string;
}

/** What a model thread reports once loaded: the model served (stored with every result) and how. */
export interface ModelInfo {
  name: string;
  version: string;
  sha256: string;
  preprocessing: PreprocessingSpec;
  runtime: ModelRuntime;
}

/**
 * A worker thread that serves a model package. A missing MODEL_DIR starts no thread: the
 * readiness check reports it (and jobs are refused), so the pod is not ready with a clear
 * reason instead of crash-looping. Once loaded, readiness and the log say which engine runs.
 */
export class ModelThread<Req, Res, Info extends { runtime: ModelRuntime }> {
  private readonly thread?: ThreadHost<Req, Res, Info>;
  private readonly missing?: string;

  constructor(script: string, settings: ModelThreadData, logger?: Logger) {
    const dir = path.resolve(settings.modelDir);
    if (existsSync(dir)) {
      this.thread = new ThreadHost<Req, Res, Info>(
        script,
        { ...settings, modelDir: dir } satisfies ModelThreadData,
        ({ runtime }) => {
          logger?.info({ requested: settings.engine, ...runtime }, 'model loaded');
          if (runtime.fallback)
            logger?.warn({ engine: runtime.engine, explainEngine: runtime.explainEngine }, runtime.fallback);
        },
      );
    } else
      this.missing = `MODEL_DIR ${dir} does not exist: set MODEL_DIR to a model package folder (docs/configuration.md)`;
  }

  private ready(): ThreadHost<Req, Res, Info> {
    if (!this.thread) throw new Error(this.missing);
    this.thread.assertReady();
    return this.thread;
  }

  /** What the thread reported once loaded (model name, version, sha256, runtime...). */
  get info(): Info {
    return this.ready().info!;
  }

  /** The model runtime's memory after the latest call; undefined before one (a metrics probe). */
  memory(): RuntimeMemory | undefined {
    return this.thread?.memory;
  }

  readiness(): HealthCheck {
    return { name: 'model', check: () => void this.ready(), detail: () => ({ ...this.info.runtime }) };
  }

  call(request: Req, transfer?: Transferable[]): Promise<Res> {
    try {
      return this.ready().call(request, transfer);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    await this.thread?.close();
  }
}
