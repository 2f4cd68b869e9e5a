import type { DicomObject } from '../results';
import { classifyStatus } from './delivery-result';
import { interpretStowResponse, stowEndpoint } from './stow-client';

const object = (uid: string): DicomObject => ({
  kind: 'sc',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
  sopInstanceUid: uid,
  seriesInstanceUid: '2.25.1',
  studyInstanceUid: '2.25.2',
  bytes: Buffer.alloc(0),
});

describe('delivery status classification', () => {
  it.each([
    [0x0000, 'stored'],
    [0xb000, 'stored'],
    [0x0111, 'stored'],
    [0xa700, 'retryable'],
    [0xa7ff, 'retryable'],
    [0x0110, 'retryable'],
    [0x0213, 'retryable'],
    [0x0122, 'failed'],
    [0xa900, 'failed'],
    [0xc000, 'failed'],
    [0xc122, 'failed'],
  ])('status 0x%s is %s', (code, status) => {
    expect(classifyStatus(code).status).toBe(status);
  });
});

describe('STOW-RS responses', () => {
  const a = object('2.25.10');
  const b = object('2.25.11');
  const c = object('2.25.12');

  it('maps ReferencedSOPSequence and FailedSOPSequence per instance', () => {
    const body = {
      '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [a.sopInstanceUid] } }] },
      '00081198': {
        vr: 'SQ',
        Value: [
          { '00081155': { vr: 'UI', Value: [b.sopInstanceUid] }, '00081197': { vr: 'US', Value: [0xa700] } },
          { '00081155': { vr: 'UI', Value: [c.sopInstanceUid] }, '00081197': { vr: 'US', Value: [0xc000] } },
        ],
      },
    };
    const results = interpretStowResponse([a, b, c], 202, body);
    expect(results.map((r) => r.status)).toEqual(['stored', 'retryable', 'failed']);
    expect(results[1]).toMatchObject({ code: 0xa700, reason: expect.stringContaining('out of resources') });
  });

  it('treats a bodyless 200 as stored and 5xx / 4xx without detail by HTTP status', () => {
    expect(interpretStowResponse([a], 200, undefined)[0].status).toBe('stored');
    expect(interpretStowResponse([a], 503, undefined)[0]).toMatchObject({ status: 'retryable', reason: /HTTP 503/ });
    expect(interpretStowResponse([a], 429, undefined)[0].status).toBe('retryable');
    expect(interpretStowResponse([a], 415, undefined)[0].status).toBe('failed');
    expect(interpretStowResponse([a], 401, { error: 'no' })[0].status).toBe('failed');
  });

  it('posts to the studies resource of a DICOMweb root', () => {
    expect(stowEndpoint('http://pacs:8042/dicom-web')).toBe('http://pacs:8042/dicom-web/studies');
    expect(stowEndpoint('http://pacs:8042/dicom-web/')).toBe('http://pacs:8042/dicom-web/studies');
    expect(stowEndpoint('https://pacs/wado/studies')).toBe('https://pacs/wado/studies');
    expect(() => stowEndpoint('ftp://pacs/x')).toThrow(/http/);
  });
});
