/**
 * Machine-readable error codes shared by the API, the jobs and the CLI.
 * Every failure a user can see carries one of these plus a human message.
 */
export const ERROR_CODES = {
  // Decoding (libs/imaging)
  UNSUPPORTED_FORMAT: 'The content is not DICOM, PNG or JPEG.',
  UNSUPPORTED_TRANSFER_SYNTAX: 'The DICOM transfer syntax is not supported.',
  NOT_AN_IMAGE: 'The DICOM object has no image pixel data.',
  CORRUPT_FILE: 'The file is truncated or corrupt.',
  // Model runtime (libs/ml)
  MODEL_INVALID: 'The model package is invalid.',
  MODEL_NOT_FOUND: 'The model package was not found.',
  // API
  VALIDATION_FAILED: 'The request is invalid.',
  UNAUTHENTICATED: 'A valid API key is required.',
  FORBIDDEN: 'This API key may not do that.',
  NOT_FOUND: 'Not found.',
  PAYLOAD_TOO_LARGE: 'The upload exceeds the size limit.',
  UNSUPPORTED_MEDIA_TYPE: 'The upload is not a supported image type.',
  RATE_LIMITED: 'Too many requests.',
  NOT_READY: 'Not processed yet; try again later.',
  SERVICE_UNAVAILABLE: 'A dependency is down; try again later.',
  CONFIG_INVALID: 'The configuration is invalid.',
  INTERNAL: 'Internal error.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a code from ERROR_CODES; safe to show to users (never carries patient data). */
export class XrayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'XrayError';
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isXrayError(error: unknown): error is XrayError {
  return error instanceof XrayError;
}
