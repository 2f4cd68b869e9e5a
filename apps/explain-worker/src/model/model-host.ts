import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ModelThread,
  ThreadHost,
  type AppConfig,
  type HealthCheck,
  type Logger,
  type RuntimeMemory,
} from '@xray/platform';
import type {
  ExplainRequest,
  ExplainResponse,
  GradCamResponse,
  ModelInfo,
  RenderRequest,
  RenderResponse,
} from './protocol';

/**
 * The Grad-CAM++ model thread (one explanation at a time) and the render thread behind it:
 * concurrent jobs (EXPLAIN_CONCURRENCY) overlap one's rendering with another's model run.
 */
export class ModelHost {
  private readonly model: ModelThread<ExplainRequest, GradCamResponse, ModelInfo>;
  private readonly renderer = new ThreadHost<RenderRequest, RenderResponse>(
    path.join(__dirname, 'render.thread.js'),
    undefined,
  );

  constructor(config: AppConfig, logger?: Logger) {
    this.model = new ModelThread(
      path.join(__dirname, 'model.thread.js'),
      { modelDir: config.modelDir, engine: config.engine },
      logger,
    );
  }

  get info(): ModelInfo {
    return this.model.info;
  }

  /** tfjs memory after the latest explanation, when tfjs serves the model (a metrics probe). */
  memory(): RuntimeMemory | undefined {
    return this.model.memory();
  }

  readiness(): HealthCheck {
    const model = this.model.readiness();
    return { ...model, check: () => (model.check(), this.renderer.assertReady()) };
  }

  async explain(request: ExplainRequest): Promise<ExplainResponse> {
    const explained = await this.model.call(request);
    if (!explained.ok) return explained;
    const { cam, image, layerMaps, modelMs, stages } = explained;
    const started = performance.now();
    const pngs = await this.renderer.call({ cam, image, spec: this.info.preprocessing }, [
      image.pixels.buffer as ArrayBuffer,
      cam.map.buffer as ArrayBuffer,
    ]);
    return {
      ok: true,
      layer: cam.layer,
      layerMaps,
      ...pngs,
      modelMs,
      stages: { ...stages, renderPng: performance.now() - started },
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.model.close(), this.renderer.close()]);
  }
}
