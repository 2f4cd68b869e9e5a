import { HttpException } from '@nestjs/common';
import { ERROR_CODES, type ErrorCode } from '@xray/shared';

/** An HTTP error with a code from @xray/shared; serialised as `{ error: { code, message } }`. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly headers: Record<string, string> = {},
  ) {
    super({ error: { code, message } }, status);
  }
}

export const notFound = (what = 'Not found.') => new ApiError(404, 'NOT_FOUND', what);
export const invalid = (message: string) => new ApiError(400, 'VALIDATION_FAILED', message);
