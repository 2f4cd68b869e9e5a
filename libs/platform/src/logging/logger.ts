import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

const correlation = new AsyncLocalStorage<string>();

/** Runs `fn` with a correlation id that every log line written inside it carries. */
export function withCorrelationId<T>(id: string | undefined, fn: () => T): T {
  return correlation.run(id ?? randomUUID(), fn);
}

export function currentCorrelationId(): string | undefined {
  return correlation.getStore();
}

/**
 * JSON logs on stdout. Never log patient data: callers log ids and codes only, and the
 * redaction below is a second line of defence for fields that might slip through.
 */
export function createLogger(app: string, level = 'info'): Logger {
  return pino({
    name: app,
    level,
    base: { app },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const correlationId = correlation.getStore();
      return correlationId ? { correlationId } : {};
    },
    redact: [
      '*.patientName',
      '*.patientId',
      '*.PatientName',
      '*.PatientID',
      'req.headers.authorization',
      'headers.authorization',
    ],
  });
}

/** Nest's logger interface on top of pino, so framework messages are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

export type { Logger };
