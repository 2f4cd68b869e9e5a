import {
  Controller,
  DynamicModule,
  Get,
  Inject,
  Injectable,
  MiddlewareConsumer,
  Module,
  NestMiddleware,
  NestModule,
  Res,
  type ModuleMetadata,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { heartbeatCheck, runHealthChecks, type HealthCheck } from './health';
import { ProgressHeartbeat } from './heartbeat';
import { XrayMetrics, type CountableQueue } from './metrics';
import { OBSERVABILITY_PATHS } from './paths';

/** What an app hands the module: its readiness checks and the queues whose counts it exports. */
export interface ObservabilityOptions {
  readiness: HealthCheck[];
  queues?: CountableQueue[];
  /** Workers: readiness fails when the progress heartbeat is older than this. */
  heartbeatMaxAgeMs?: number;
  /** Per-check timeout of the readiness probe (default 2 s). */
  checkTimeoutMs?: number;
}

export interface ObservabilityModuleOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Value of the `app` label on every metric (gateway, inference-worker, explain-worker). */
  app: string;
  inject?: any[];
  useFactory: (...deps: any[]) => ObservabilityOptions | Promise<ObservabilityOptions>;
}

const OPTIONS = Symbol('OBSERVABILITY_OPTIONS');

// Operations endpoints: not part of the documented API v1.
@ApiExcludeController()
@Controller()
class HealthController {
  constructor(
    @Inject(OPTIONS) private readonly options: ObservabilityOptions,
    private readonly heartbeat: ProgressHeartbeat,
  ) {}

  /** Liveness: the process answers HTTP. Dependencies are readiness's business (no restart storms). */
  @Get(OBSERVABILITY_PATHS.live)
  live() {
    return { status: 'ok' };
  }

  @Get(OBSERVABILITY_PATHS.ready)
  async ready(@Res() res: Response) {
    const { readiness, heartbeatMaxAgeMs, checkTimeoutMs } = this.options;
    const checks = heartbeatMaxAgeMs ? [...readiness, heartbeatCheck(this.heartbeat, heartbeatMaxAgeMs)] : readiness;
    const report = await runHealthChecks(checks, checkTimeoutMs);
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  }
}

@ApiExcludeController()
@Controller()
class MetricsController {
  constructor(private readonly metrics: XrayMetrics) {}

  @Get(OBSERVABILITY_PATHS.metrics)
  async scrape(@Res() res: Response) {
    res.type(this.metrics.contentType).send(await this.metrics.render());
  }
}

/** Records every HTTP request's duration by route template (never the raw URL: ids would explode cardinality). */
@Injectable()
class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: XrayMetrics) {}

  use(req: Request, res: Response, next: NextFunction) {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      // A route registered for several paths (Bull Board's UI) is labelled with its first one.
      const template: unknown = req.route?.path;
      const path = Array.isArray(template) ? template[0] : template;
      const route = typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : 'unmatched';
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      this.metrics.observeHttp(req.method, route, res.statusCode, ms);
    });
    next();
  }
}

/**
 * `/health/live`, `/health/ready` and `/metrics` for one Nest HTTP app, plus HTTP request
 * metrics. Global: the app's own providers inject `XrayMetrics` (to record model time,
 * webhook deliveries...) and `ProgressHeartbeat` (to pass to `watchWorker`).
 */
@Module({})
export class ObservabilityModule implements NestModule {
  static forRootAsync(options: ObservabilityModuleOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      imports: options.imports ?? [],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: XrayMetrics, useValue: new XrayMetrics({ app: options.app }) },
        { provide: ProgressHeartbeat, useValue: new ProgressHeartbeat() },
        {
          provide: OPTIONS,
          inject: [XrayMetrics, ...(options.inject ?? [])],
          useFactory: async (metrics: XrayMetrics, ...deps: unknown[]) => {
            const resolved = await options.useFactory(...deps);
            metrics.watchQueues(resolved.queues ?? []);
            return resolved;
          },
        },
        HttpMetricsMiddleware,
      ],
      exports: [XrayMetrics, ProgressHeartbeat],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
