import { randomBytes } from 'node:crypto';
import { boundaryOf, MultipartError, parseMultipartRelated, type RelatedPart } from './multipart-related';

const BOUNDARY = 'xray-boundary-42';

function message(parts: Buffer[], options: { preamble?: string; epilogue?: string; close?: boolean } = {}): Buffer {
  const pieces: Buffer[] = [Buffer.from(options.preamble ?? '')];
  for (const body of parts) {
    pieces.push(
      Buffer.from(
        `${pieces.length > 1 || options.preamble ? '\r\n' : ''}--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`,
      ),
    );
    pieces.push(body);
  }
  if (options.close !== false) pieces.push(Buffer.from(`\r\n--${BOUNDARY}--${options.epilogue ?? '\r\n'}`));
  return Buffer.concat(pieces);
}

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(
  source: AsyncIterable<Buffer>,
): Promise<Array<{ headers: Record<string, string>; body: Buffer }>> {
  const out: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  await parseMultipartRelated(source, BOUNDARY, async (part: RelatedPart) => {
    // Parts may finish out of order (a small one while a big one is still read): keep arrival order.
    const slot = out.push({ headers: part.headers, body: Buffer.alloc(0) }) - 1;
    const chunks: Buffer[] = [];
    for await (const c of part.body) chunks.push(c as Buffer);
    out[slot].body = Buffer.concat(chunks);
  });
  return out;
}

describe('parseMultipartRelated', () => {
  // Bodies that contain CRLF, dashes and a near-boundary, to trip a naive splitter.
  const bodies = [
    Buffer.from('first\r\n--xray-boundary-4 not quite\r\n'),
    randomBytes(3000),
    Buffer.alloc(0),
    Buffer.from(`x--${BOUNDARY} is not a delimiter without the CRLF before it`),
  ];

  it.each([1, 2, 7, 64, 1 << 20])('splits parts exactly whatever the chunk size (%i)', async (size) => {
    const parts = await collect(chunked(message(bodies, { preamble: 'ignored preamble', epilogue: 'bye' }), size));
    expect(parts.map((p) => p.body.toString('hex'))).toEqual(bodies.map((b) => b.toString('hex')));
    expect(parts[0].headers['content-type']).toBe('application/dicom');
  });

  it('streams a large part with back-pressure (the consumer reads slowly)', async () => {
    const big = randomBytes(5 * 1024 * 1024);
    let received = 0;
    await parseMultipartRelated(chunked(message([big]), 65536), BOUNDARY, async (part) => {
      for await (const chunk of part.body) {
        received += (chunk as Buffer).length;
        await new Promise((r) => setImmediate(r));
      }
    });
    expect(received).toBe(big.length);
  });

  it('rejects a body cut before its closing boundary', async () => {
    await expect(collect(chunked(message([Buffer.from('abc')], { close: false }), 5))).rejects.toThrow(MultipartError);
  });

  it('rejects a body with no part at all', async () => {
    await expect(collect(chunked(Buffer.from('just some text'), 4))).rejects.toThrow('no multipart body part found');
  });

  it('reads the boundary parameter, quoted or not', () => {
    expect(boundaryOf('multipart/related; type="application/dicom"; boundary="a b:c"')).toBe('a b:c');
    expect(boundaryOf('multipart/related;boundary=abc123;type=application/dicom')).toBe('abc123');
    expect(boundaryOf('multipart/related; type="application/dicom"')).toBeUndefined();
    // Orthanc's STOW-RS client: two UUIDs, 73 characters.
    const orthanc = 'f732f6c6-39ac-46d4-a1e5-d9f2f1940c8c-f732f6c6-39ac-46d4-a1e5-d9f2f1940c8c';
    expect(boundaryOf(`multipart/related; type="application/dicom"; boundary=${orthanc}`)).toBe(orthanc);
  });
});
