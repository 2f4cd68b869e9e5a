/** STOW-RS client against a checking HTTP server and against Orthanc's DICOMweb plugin. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startOrthanc, type RunningOrthanc } from '@xray/testing';
import { tempDir } from '../../test/read-dicom';
import { overlayPng, studyInput, STUDY_UID } from '../../test/result-fixtures';
import { buildSecondaryCapture, buildStudyReport, type DicomObject } from '../results';
import { stowRs } from './stow-client';

// External tools and servers on a shared machine: allow for slow starts.
jest.setTimeout(60_000);

const tmp = tempDir('xray-stow-');
let objects: DicomObject[];

beforeAll(async () => {
  const input = studyInput();
  const overlay = await overlayPng();
  const scs = await Promise.all(
    input.instances.map((instance) => buildSecondaryCapture({ ...input, instance, layer: 'top_conv', overlay })),
  );
  objects = [buildStudyReport(input), ...scs];
});
afterAll(() => tmp.remove());

interface Received {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  parts: { headers: string; body: Buffer }[];
}

/** Splits a multipart/related body on its boundary (RFC 2046 5.1.1). */
function parseMultipart(body: Buffer, boundary: string): { headers: string; body: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: string; body: Buffer }[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const after = start + delimiter.length;
    if (body.subarray(after, after + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, after);
    const part = body.subarray(after + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    parts.push({ headers: part.subarray(0, split).toString('latin1'), body: part.subarray(split + 4) });
    start = next;
  }
  return parts;
}

/** An HTTP server that records the request and answers with `reply`. */
async function stowServer(reply: (received: Received) => { status: number; body?: unknown }) {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
      const received = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        parts: parseMultipart(Buffer.concat(chunks), boundary),
      };
      requests.push(received);
      const { status, body } = reply(received);
      res.writeHead(status, { 'Content-Type': 'application/dicom+json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const sopItem = (uid: string, extra: Record<string, unknown> = {}) => ({
  '00081155': { vr: 'UI', Value: [uid] },
  ...extra,
});

describe('STOW-RS delivery to an HTTP server', () => {
  it('posts one multipart/related request of application/dicom parts with the extra headers', async () => {
    const server = await stowServer(() => ({
      status: 200,
      body: { '00081199': { vr: 'SQ', Value: objects.map((o) => sopItem(o.sopInstanceUid)) } },
    }));
    try {
      const results = await stowRs(
        { url: server.url, headers: { Authorization: 'Bearer t0ken', 'X-Site': 'A' } },
        objects,
      );
      expect(results).toEqual(objects.map((o) => ({ sopInstanceUid: o.sopInstanceUid, status: 'stored' })));
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/dicom-web/studies');
      expect(request.headers['content-type']).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
      expect(request.headers['accept']).toBe('application/dicom+json');
      expect(request.headers['authorization']).toBe('Bearer t0ken');
      expect(request.headers['x-site']).toBe('A');
      expect(request.parts).toHaveLength(3);
      request.parts.forEach((part, i) => {
        expect(part.headers).toBe('Content-Type: application/dicom');
        expect(part.body.equals(objects[i].bytes)).toBe(true);
        expect(part.body.subarray(128, 132).toString()).toBe('DICM');
      });
    } finally {
      await server.close();
    }
  });

  it('maps a partial success (202) to stored / retryable / failed per instance', async () => {
    const [sr, sc1, sc2] = objects;
    const server = await stowServer(() => ({
      status: 202,
      body: {
        '00081199': { vr: 'SQ', Value: [sopItem(sr.sopInstanceUid)] },
        '00081198': {
          vr: 'SQ',
          Value: [
            sopItem(sc1.sopInstanceUid, { '00081197': { vr: 'US', Value: [0xa700] } }),
            sopItem(sc2.sopInstanceUid, { '00081197': { vr: 'US', Value: [0xa900] } }),
          ],
        },
      },
    }));
    try {
      const results = await stowRs({ url: server.url }, objects);
      expect(results.map((r) => r.status)).toEqual(['stored', 'retryable', 'failed']);
      expect(results[2]).toMatchObject({ code: 0xa900, reason: expect.stringMatching(/does not match SOP class/) });
    } finally {
      await server.close();
    }
  });

  it('treats 503 as retryable, 401 as failed, and a closed port as retryable', async () => {
    let status = 503;
    const server = await stowServer(() => ({ status }));
    try {
      expect((await stowRs({ url: server.url }, objects)).map((r) => r.status)).toEqual([
        'retryable',
        'retryable',
        'retryable',
      ]);
      status = 401;
      expect((await stowRs({ url: server.url }, objects))[0]).toMatchObject({ status: 'failed', reason: /HTTP 401/ });
    } finally {
      await server.close();
    }
    const closed = await stowRs({ url: server.url }, objects, { timeoutMs: 2000 });
    expect(closed[0]).toMatchObject({ status: 'retryable', reason: /failed/ });
  });
});

describe('STOW-RS delivery to Orthanc', () => {
  let orthanc: RunningOrthanc;
  beforeAll(async () => {
    orthanc = await startOrthanc();
  }, 60_000);
  afterAll(async () => orthanc?.stop());

  it('stores the SR and SCs in the source study; sending again adds nothing', async () => {
    const results = await stowRs({ url: orthanc.dicomWebRoot }, objects);
    expect(results.map((r) => r.status)).toEqual(['stored', 'stored', 'stored']);

    const series = (await (await fetch(`${orthanc.dicomWebRoot}/studies/${STUDY_UID}/series`)).json()) as Record<
      string,
      { Value?: unknown[] }
    >[];
    const descriptions = series.map((s) => s['0008103E']?.Value?.[0]).sort();
    expect(descriptions).toEqual(['AI body part', 'AI body part - Grad-CAM++']);
    const instances = (await (await fetch(`${orthanc.url}/instances`)).json()) as string[];
    expect(instances).toHaveLength(3);

    const again = await stowRs({ url: orthanc.dicomWebRoot }, objects);
    expect(again.every((r) => r.status === 'stored')).toBe(true);
    expect((await (await fetch(`${orthanc.url}/instances`)).json()) as string[]).toHaveLength(3);

    // Orthanc reads the SR's content: the first instance's body part code.
    const srId = ((await orthanc.post('/tools/lookup', objects[0].sopInstanceUid)) as { ID: string }[])[0].ID;
    const tags = JSON.stringify(await (await fetch(`${orthanc.url}/instances/${srId}/simplified-tags`)).json());
    expect(tags).toContain('816094009');
  });
});
