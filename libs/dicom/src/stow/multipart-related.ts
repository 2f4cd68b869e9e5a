import { Readable } from 'node:stream';
import StreamSearch from 'streamsearch';

/** One body part of a multipart/related message: its headers (names lower-cased) and its bytes as a stream. */
export interface RelatedPart {
  headers: Record<string, string>;
  body: Readable;
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * The `boundary` parameter of a multipart Content-Type (quoted or not). RFC 2046 allows 1-70
 * characters, but real senders exceed it (Orthanc's STOW-RS client uses 73), so up to 200 pass.
 */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`malformed part header line: "${line.slice(0, 80)}"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Streams a multipart/related body (RFC 2387 / RFC 2046) part by part: `onPart` gets each
 * part as soon as its headers are read and must consume (or resume) its body. Parts are
 * handled one after another and the request is read only as fast as parts are consumed, so
 * memory stays bounded whatever the body's size. Boundary search is streamsearch
 * (Boyer-Moore-Horspool across chunk edges, the search busboy uses).
 */
export async function parseMultipartRelated(
  body: AsyncIterable<Buffer>,
  boundary: string,
  onPart: (part: RelatedPart) => Promise<void>,
): Promise<number> {
  type State = 'preamble' | 'headers' | 'body' | 'done';
  let state = 'preamble' as State;
  let headerBytes: Buffer[] = [];
  let current: Readable | undefined;
  let wantMore: (() => void) | undefined;
  let failure: Error | undefined;
  const handlers: Array<Promise<void>> = [];
  let parts = 0;

  const newPart = (): Readable =>
    new Readable({
      read() {
        const resume = wantMore;
        wantMore = undefined;
        resume?.();
      },
    });

  const startPart = (headerBlock: Buffer) => {
    const end = headerBlock.indexOf(CRLF2);
    // After the boundary: optional transport padding, then CRLF, then headers up to an empty line.
    const firstLineEnd = headerBlock.indexOf('\r\n');
    const headers = parseHeaders(headerBlock.subarray(firstLineEnd + 2, end + 2).toString('latin1'));
    const part = newPart();
    current = part;
    state = 'body';
    parts++;
    handlers.push(
      onPart({ headers, body: part }).catch((error: Error) => {
        failure ??= error;
        part.resume();
      }),
    );
    const rest = headerBlock.subarray(end + 4);
    if (rest.length) part.push(rest);
  };

  const search = new StreamSearch(Buffer.from(`\r\n--${boundary}`), (isMatch, data, start, end) => {
    if (failure) return;
    if (data && end > start) {
      const bytes = Buffer.from(data.subarray(start, end));
      if (state === 'body') current!.push(bytes);
      else if (state === 'headers') {
        headerBytes.push(bytes);
        const block = Buffer.concat(headerBytes);
        headerBytes = [block];
        if (block.subarray(0, 2).toString('latin1') === '--') state = 'done';
        else if (block.indexOf(CRLF2) >= 0) {
          headerBytes = [];
          startPart(block);
        } else if (block.length > MAX_HEADER_BYTES) failure = new MultipartError('a part header is too large');
      }
    }
    if (!isMatch) return;
    if (state === 'body') {
      current!.push(null);
      current = undefined;
    } else if (state === 'headers' && headerBytes.length) {
      failure = new MultipartError('a part has no header/body separator');
      return;
    }
    if (state !== 'done') {
      state = 'headers';
      headerBytes = [];
    }
  });

  // The first boundary may start the body without a preceding CRLF.
  search.push(Buffer.from('\r\n'));
  for await (const chunk of body) {
    search.push(chunk);
    if (failure) break;
    // Back-pressure: wait until the current part's consumer asks for more, and until earlier
    // parts are handled, so at most one part besides the current one is in flight.
    if (current && current.readableLength > current.readableHighWaterMark)
      await new Promise<void>((resolve) => (wantMore = resolve));
    await Promise.all(current ? handlers.slice(0, -1) : handlers);
  }
  // Flush what streamsearch holds back (a possible boundary prefix) into the state machine.
  search.destroy();
  if (!failure && state !== 'done') {
    failure = new MultipartError(
      parts === 0 ? 'no multipart body part found' : 'the multipart body ends before its closing boundary',
    );
    current?.destroy(failure);
  }
  await Promise.all(handlers);
  if (failure) throw failure;
  return parts;
}
