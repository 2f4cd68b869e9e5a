import type { Readable } from 'node:stream';
import { DicomHeaderError, readDicomHeader, type DicomHeader } from './header';

/** Sizes at which the header is tried again; the header (everything before Pixel Data) is almost always small. */
const TRY_AT = [16 * 1024, 256 * 1024, 1024 * 1024];

async function nextChunk(stream: Readable): Promise<Buffer | null> {
  for (;;) {
    const chunk: Buffer | null = stream.read();
    if (chunk !== null) return chunk;
    if (stream.readableEnded || (stream as any)._readableState?.ended) return null;
    if (stream.destroyed) throw (stream as any).errored ?? new Error('the stream was closed');
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('readable', done).off('end', done).off('close', done).off('error', fail);
        resolve();
      };
      const fail = (error: Error) => {
        stream.off('readable', done).off('end', done).off('close', done).off('error', fail);
        reject(error);
      };
      stream.on('readable', done).on('end', done).on('close', done).on('error', fail);
    });
  }
}

/**
 * Reads just enough of a Part 10 stream to parse its header, without consuming the rest: the
 * caller then streams `prefix` followed by the remaining `stream` into storage. At most
 * `maxHeaderBytes` are held; a header that does not parse within them is a DicomHeaderError.
 */
export async function readHeaderPrefix(
  stream: Readable,
  maxHeaderBytes: number,
): Promise<{ header: DicomHeader; prefix: Buffer }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let attempt = 0;
  let lastError: DicomHeaderError | undefined;
  for (;;) {
    const chunk = await nextChunk(stream);
    const ended = chunk === null;
    if (chunk) {
      chunks.push(chunk);
      size += chunk.length;
    }
    const due = ended || size >= maxHeaderBytes || size >= (TRY_AT[attempt] ?? Infinity);
    if (!due) continue;
    while (size >= (TRY_AT[attempt] ?? Infinity)) attempt++;
    const prefix = Buffer.concat(chunks);
    chunks.splice(0, chunks.length, prefix);
    try {
      return { header: readDicomHeader(prefix), prefix };
    } catch (error) {
      if (!(error instanceof DicomHeaderError)) throw error;
      lastError = error;
    }
    if (ended) throw lastError;
    if (size >= maxHeaderBytes)
      throw new DicomHeaderError(
        `no complete DICOM header in the first ${maxHeaderBytes} bytes (${lastError.message})`,
      );
  }
}
