import { Transform, type TransformCallback } from 'node:stream';
import { detectFormat, type ImageFormat } from '@xray/imaging';
import { ApiError } from '../errors/api-error';

/** Bytes looked at to recognise a format (a DICOM preamble is 132). */
const SNIFF_BYTES = 4096;

/**
 * Passes an upload through while recognising its format from its first bytes (never from
 * the file name or the declared type); unsupported content stops the stream with a 415.
 */
export class FormatSniffer extends Transform {
  format?: ImageFormat;
  private head: Buffer[] = [];
  private headBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.format) return callback(null, chunk);
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < SNIFF_BYTES) return callback();
    this.release(callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.format) return callback();
    this.release(callback);
  }

  private release(callback: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    try {
      this.format = detectFormat(head.subarray(0, SNIFF_BYTES));
    } catch {
      return callback(
        new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'A file is not DICOM, PNG or JPEG (detected from its content).'),
      );
    }
    callback(null, head);
  }
}
