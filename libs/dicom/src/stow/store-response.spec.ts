import { storeResponse } from './store-response';

describe('storeResponse (PS3.18 store instances response)', () => {
  const ok = {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
    sopInstanceUid: '1.2.3',
    retrieveUrl: 'http://x/v1/studies/s',
  };
  const bad = { sopClassUid: '1.2.840.10008.5.1.4.1.1.88.11', sopInstanceUid: '1.2.4', failureReason: 0x0122 };

  it('200 with ReferencedSOPSequence when all were stored', () => {
    const { status, body } = storeResponse([ok], 'http://x/v1/studies/s');
    expect(status).toBe(200);
    expect(body).toEqual({
      '00081190': { vr: 'UR', Value: ['http://x/v1/studies/s'] },
      '00081199': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: [ok.sopClassUid] },
            '00081155': { vr: 'UI', Value: ['1.2.3'] },
            '00081190': { vr: 'UR', Value: [ok.retrieveUrl] },
          },
        ],
      },
    });
  });

  it('202 with FailedSOPSequence and FailureReason when some failed', () => {
    const { status, body } = storeResponse([ok, bad]);
    expect(status).toBe(202);
    expect((body['00081198'] as any).Value[0]['00081197']).toEqual({ vr: 'US', Value: [0x0122] });
  });

  it('409 when none was stored', () => {
    expect(storeResponse([bad]).status).toBe(409);
    expect(storeResponse([]).status).toBe(409);
  });
});
