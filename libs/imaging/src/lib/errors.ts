import { XrayError } from '@xray/shared';

export function corrupt(detail: string, cause?: unknown): XrayError {
  return new XrayError('CORRUPT_FILE', `The file is truncated or corrupt: ${detail}.`, { cause });
}

export function notAnImage(detail: string): XrayError {
  return new XrayError('NOT_AN_IMAGE', `The DICOM object has no image pixel data: ${detail}.`);
}

/** Library exceptions (dicom-parser throws strings, codecs throw Errors) become CORRUPT_FILE. */
export function asXrayError(error: unknown, what: string): XrayError {
  if (error instanceof XrayError) return error;
  const message =
    typeof error === 'string'
      ? error
      : error instanceof Error
        ? error.message
        : typeof error === 'object' && error !== null && 'exception' in error
          ? String((error as { exception: unknown }).exception)
          : String(error);
  return corrupt(`${what} (${message.trim().slice(0, 200)})`, error);
}
