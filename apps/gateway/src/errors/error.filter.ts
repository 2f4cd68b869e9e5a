import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { isDatabaseUnavailable } from '@xray/db';
import { LOGGER } from '@xray/pipeline';
import type { Logger } from '@xray/platform';
import { isXrayError, type ErrorCode } from '@xray/shared';
import type { Response } from 'express';
import { ApiError } from './api-error';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

const STATUS_BY_XRAY_CODE: Partial<Record<ErrorCode, number>> = {
  UNSUPPORTED_FORMAT: 415,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
};

/** Every error leaves the API as `{ error: { code, message } }`; unexpected ones are logged, not shown. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    // The client went away mid-request: nobody to answer, nothing went wrong on our side.
    if (res.headersSent || (exception as NodeJS.ErrnoException)?.code === 'ECONNRESET') return;
    const { status, code, message, headers } = this.describe(exception);
    if (status === 503) this.logger.warn({ err: (exception as Error)?.message }, 'dependency unavailable');
    else if (status >= 500) this.logger.error({ err: exception }, 'request failed');
    res.status(status).set(headers).json({ error: { code, message } });
  }

  private describe(exception: unknown): {
    status: number;
    code: ErrorCode;
    message: string;
    headers: Record<string, string>;
  } {
    if (exception instanceof ApiError)
      return {
        status: exception.getStatus(),
        code: exception.code,
        message: (exception.getResponse() as { error: { message: string } }).error.message,
        headers: exception.headers,
      };
    if (isXrayError(exception)) {
      const status = STATUS_BY_XRAY_CODE[exception.code] ?? 422;
      return {
        status,
        code: status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : exception.code,
        message: exception.message,
        headers: {},
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return {
        status,
        code: CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED'),
        message: exception.message,
        headers: {},
      };
    }
    // PostgreSQL down or restarting: an outage to retry, like any dependency's, not an internal error.
    if (isDatabaseUnavailable(exception))
      return {
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        message: 'The database is unavailable; retry later.',
        headers: { 'Retry-After': '5' },
      };
    return { status: 500, code: 'INTERNAL', message: 'Internal error.', headers: {} };
  }
}
