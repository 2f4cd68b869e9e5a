import { assertAllowedTarget, callbackUrlProblem, isPrivateAddress } from './callback-url';
import { signWebhook, verifyWebhookSignature } from './signature';

describe('webhook signatures', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 and verifies it', () => {
    const body = JSON.stringify({ id: 'e1', type: 'study.completed' });
    const header = signWebhook('whsec_x', body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('whsec_x', body, header, 300, 1_700_000_100_000)).toBe(true);
    expect(verifyWebhookSignature('whsec_y', body, header, 300, 1_700_000_100_000)).toBe(false);
    expect(verifyWebhookSignature('whsec_x', `${body} `, header, 300, 1_700_000_100_000)).toBe(false);
    expect(verifyWebhookSignature('whsec_x', body, header, 300, 1_700_001_000_000)).toBe(false); // too old
  });
});

describe('callback URL policy', () => {
  it('accepts only http(s) URLs without credentials', () => {
    expect(callbackUrlProblem('https://hooks.example.org/x')).toBeNull();
    expect(callbackUrlProblem('ftp://example.org/x')).toMatch(/http or https/);
    expect(callbackUrlProblem('https://u:p@example.org/')).toMatch(/credentials/);
    expect(callbackUrlProblem('not a url')).toMatch(/not a valid URL/);
  });

  it('recognises private, loopback and link-local targets', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ])
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    for (const a of ['93.184.216.34', '2606:2800:220:1::1', '8.8.8.8'])
      expect([a, isPrivateAddress(a)]).toEqual([a, false]);
  });

  it('refuses private targets unless allowed', async () => {
    await expect(assertAllowedTarget('http://127.0.0.1:9/hook', false)).rejects.toThrow(/private address/);
    await expect(assertAllowedTarget('http://localhost:9/hook', false)).rejects.toThrow(/private address/);
    await expect(assertAllowedTarget('http://127.0.0.1:9/hook', true)).resolves.toBeUndefined();
    await expect(assertAllowedTarget('http://[::1]:9/hook', false)).rejects.toThrow(/private address/);
  });
});
