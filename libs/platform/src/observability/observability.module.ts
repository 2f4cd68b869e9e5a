import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
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
  /**
   * Serve `/metrics` on this port of its own instead of the app's port (the gateway: its API port
   * is public, metrics stay inside the cluster); 0 picks a free one. Unset: on the app's port.
   */
  metrics?: { port: number; host: string };
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

const METRICS_LISTEN = Symbol('METRICS_LISTEN');

/** `/metrics` alone on a port of its own: nothing else answers there, and the app's port answers 404 for it. */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly metrics: XrayMetrics,
    @Inject(METRICS_LISTEN) private readonly listen: { port: number; host: string },
  ) {}

  /** The port it listens on (after bootstrap). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== OBSERVABILITY_PATHS.metrics) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
        return;
      }
      this.metrics.render().then(
        (text) => res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
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
 * `/health/live`, `/health/ready` and `/metrics` (or `/metrics` on a port of its own) for one Nest HTTP app, plus HTTP request
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
      controllers: options.metrics ? [HealthController] : [HealthController, MetricsController],
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
        ...(options.metrics ? [{ provide: METRICS_LISTEN, useValue: options.metrics }, MetricsServer] : []),
      ],
      exports: [XrayMetrics, ProgressHeartbeat],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
