import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  closeOnSignals,
  createLogger,
  loadConfig,
  PinoNestLogger,
  StatusEventServer,
  withCorrelationId,
} from '@xray/platform';
import { AppModule } from './app.module';
import { setUpOpenApi } from './swagger';

/** The HTTP gateway: API v1, OpenAPI, the web viewer, webhook delivery and live status events. */
async function bootstrap(): Promise<void> {
  const config = loadConfig('gateway');
  const logger = createLogger('gateway', config.logLevel);
  const statusEvents = new StatusEventServer(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, statusEvents), {
    logger: new PinoNestLogger(logger),
    bodyParser: true,
  });
  app.set('trust proxy', true);
  // A correlation id per request (the caller's X-Correlation-Id when given) follows the study through every job.
  app.use(
    (
      req: { headers: Record<string, string | string[] | undefined> },
      res: { setHeader(n: string, v: string): void },
      next: () => void,
    ) => {
      const given = req.headers['x-correlation-id'];
      const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
      res.setHeader('X-Correlation-Id', id);
      withCorrelationId(id, next);
    },
  );
  setUpOpenApi(app);
  app.connectMicroservice({ strategy: statusEvents });
  await app.startAllMicroservices();
  await app.listen(config.port, process.env.HOST ?? '0.0.0.0');
  closeOnSignals(app, logger, config.shutdownTimeoutMs);
  logger.info(
    { port: config.port, metricsPort: config.metricsPort, publicUrl: config.publicUrl, storage: config.storage.kind },
    `gateway listening on ${config.publicUrl}`,
  );
}

bootstrap().catch((error: unknown) => {
  // Configuration errors and the like: say what is wrong and exit non-zero (no silent crash loop).
  console.error(`gateway: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
