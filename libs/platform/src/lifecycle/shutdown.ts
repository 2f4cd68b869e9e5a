import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from '../logging/logger';

/**
 * SIGTERM/SIGINT close the Nest app (its OnApplicationShutdown hooks drain the workers);
 * a hard deadline guarantees the process exits even when something hangs.
 */
export function closeOnSignals(app: INestApplicationContext, logger: Logger, timeoutMs: number): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, timeoutMs + 5000);
    deadline.unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
