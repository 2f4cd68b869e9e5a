import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { DynamicModule, Inject, Module, OnModuleInit, type ModuleMetadata } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { OBSERVABILITY_PATHS } from './paths';

export interface QueueDashboardOptions {
  queues: Queue[];
  /** True when the key is an admin API key. The dashboard can retry, promote and delete jobs. */
  isAdminKey(key: string): boolean | Promise<boolean>;
}

export interface QueueDashboardModuleOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: any[];
  useFactory: (...deps: any[]) => QueueDashboardOptions | Promise<QueueDashboardOptions>;
}

const OPTIONS = Symbol('QUEUE_DASHBOARD_OPTIONS');
const REALM = 'Basic realm="xray admin", charset="UTF-8"';

/**
 * The API key from `Authorization: Bearer KEY`, or from HTTP Basic (any user name, the key as
 * password) so that a browser can open the dashboard with its own login prompt.
 */
export function adminKeyFrom(header: string | undefined): string | undefined {
  const [scheme, value] = (header ?? '').split(' ', 2);
  if (!value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

function adminOnly(isAdminKey: QueueDashboardOptions['isAdminKey']) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = adminKeyFrom(req.headers.authorization);
    try {
      if (key && (await isAdminKey(key))) return next();
    } catch (error) {
      return next(error);
    }
    res
      .status(401)
      .set('WWW-Authenticate', REALM)
      .json({ error: { code: 'UNAUTHENTICATED', message: 'An admin API key is required.' } });
  };
}

/** Bull Board for every queue at /admin/queues on the gateway, for admin API keys only. */
@Module({})
export class QueueDashboardModule implements OnModuleInit {
  static forRootAsync(options: QueueDashboardModuleOptions): DynamicModule {
    return {
      module: QueueDashboardModule,
      imports: options.imports ?? [],
      providers: [{ provide: OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory }],
    };
  }

  constructor(
    @Inject(OPTIONS) private readonly options: QueueDashboardOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  // Runs after Nest registered its routes and before its 404 handler, so the mount is reachable.
  onModuleInit() {
    const serverAdapter = new ExpressAdapter().setBasePath(OBSERVABILITY_PATHS.queueDashboard);
    createBullBoard({ queues: this.options.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
    this.adapterHost.httpAdapter.use(
      OBSERVABILITY_PATHS.queueDashboard,
      adminOnly(this.options.isAdminKey),
      serverAdapter.getRouter(),
    );
  }
}
