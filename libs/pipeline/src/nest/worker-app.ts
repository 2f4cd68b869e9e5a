import 'reflect-metadata';
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ObjectStore } from '@xray/storage';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import {
  ObservabilityModule,
  PinoNestLogger,
  closeOnSignals,
  createLogger,
  loadConfig,
  signalCheck,
  type AppConfig,
  type AppName,
  type HealthCheck,
  type Logger,
} from '@xray/platform';
import type { TypedQueue } from '../queues';
import { InfraModule, infraReadiness } from './infra.module';
import { DATA_SOURCE, MODEL_HOST, OBJECT_STORE, QUEUE_TOKENS, REDIS } from './tokens';

interface ModelHostLike {
  readiness(): HealthCheck;
}
interface ProcessorLike {
  readonly running: boolean;
}

/**
 * The Nest module of a queue worker: shared infrastructure, /health and /metrics (ready once
 * Redis, Postgres, storage and the model are, and the worker takes jobs), the model host and
 * the queue processor with the handler it calls.
 */
export function workerAppModule(
  module: Type,
  app: AppName,
  config: AppConfig,
  logger: Logger,
  parts: {
    modelHost: Type<ModelHostLike>;
    createModelHost: () => ModelHostLike;
    processor: Type<ProcessorLike>;
    /** The services the processor calls (its queue's handler and what that needs). */
    providers: Type[];
  },
): DynamicModule {
  // The model host and processor in their own module, so the observability module can import them too.
  const partsModule: DynamicModule = {
    module: WorkerPartsModule,
    providers: [
      { provide: parts.modelHost, useFactory: parts.createModelHost },
      // The handler sees the model host through its own interface (Classifier, Explainer).
      { provide: MODEL_HOST, useExisting: parts.modelHost },
      ...parts.providers,
      parts.processor,
    ],
    exports: [parts.modelHost, parts.processor],
  };
  return {
    module,
    imports: [
      InfraModule.forRoot(config, logger),
      partsModule,
      ObservabilityModule.forRootAsync({
        app,
        imports: [partsModule],
        inject: [REDIS, DATA_SOURCE, OBJECT_STORE, parts.modelHost, parts.processor, ...QUEUE_TOKENS],
        useFactory: (
          redis: Redis,
          ds: DataSource,
          store: ObjectStore,
          model: ModelHostLike,
          processor: ProcessorLike,
          ...queues: TypedQueue<any>[]
        ) => ({
          readiness: [
            ...infraReadiness(redis, ds, store),
            model.readiness(),
            signalCheck('worker', () => processor.running, 'not taking jobs yet'),
          ],
          queues,
          heartbeatMaxAgeMs: config.heartbeatMaxAgeMs,
        }),
      }),
    ],
  };
}

@Module({})
class WorkerPartsModule {}

/** Boots a worker app: config, JSON logs, /health and /metrics on PORT, graceful SIGTERM. */
export function runWorkerApp(app: AppName, makeModule: (config: AppConfig, logger: Logger) => DynamicModule): void {
  const start = async () => {
    const config = loadConfig(app);
    const logger = createLogger(app, config.logLevel);
    const nest = await NestFactory.create(makeModule(config, logger), { logger: new PinoNestLogger(logger) });
    await nest.listen(config.port, process.env.HOST ?? '0.0.0.0');
    closeOnSignals(nest, logger, config.shutdownTimeoutMs);
    logger.info({ port: config.port, modelDir: config.modelDir }, `${app} started (takes jobs once ready)`);
  };
  start().catch((error: unknown) => {
    // Configuration errors and the like: say what is wrong and exit non-zero.
    console.error(`${app}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
