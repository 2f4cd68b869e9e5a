import { apiRequestError, provisionalStudy, sameOriginPath } from './api-client';

describe('api-client helpers', () => {
  it('follows absolute API links on the page origin', () => {
    expect(sameOriginPath('http://gateway.internal:3000/v1/instances/abc/heatmap')).toBe('/v1/instances/abc/heatmap');
    expect(sameOriginPath('https://x.example/v1/studies?cursor=a%20b')).toBe('/v1/studies?cursor=a%20b');
    expect(sameOriginPath('/v1/instances/abc/image')).toBe('/v1/instances/abc/image');
  });

  it("keeps the API's error code and message", () => {
    const error = apiRequestError(
      401,
      JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'The API key is not valid.' } }),
    );
    expect([error.status, error.code, error.message]).toEqual([401, 'UNAUTHENTICATED', 'The API key is not valid.']);
    expect(apiRequestError(502, '<html>bad gateway</html>').message).toBe('The gateway answered HTTP 502.');
    expect(apiRequestError(0, '').code).toBe('NETWORK');
  });

  it('shows an accepted upload as queued images until the study is fetched', () => {
    const study = provisionalStudy(
      { id: 's', status: 'queued', instances: [{ id: 'i1', filename: 'a.dcm', status: 'queued' }] },
      { accessionNumber: 'A1', priority: 'stat' },
    );
    expect(study).toMatchObject({
      id: 's',
      accessionNumber: 'A1',
      priority: 'stat',
      instances: [
        { id: 'i1', filename: 'a.dcm', status: 'queued', imageUrl: '/v1/instances/i1/image', prediction: null },
      ],
    });
  });
});
