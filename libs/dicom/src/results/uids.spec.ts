import { deterministicUid, uuidToUid, uuidV5 } from './uids';

const UID_FORMAT = /^2\.25\.(0|[1-9]\d*)$/;

describe('deterministic UIDs', () => {
  it('computes RFC 9562 version-5 UUIDs (the RFC example: www.example.com in the DNS namespace)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('writes a UUID as 2.25.<decimal> (PS3.5 B.2), at most 44 characters, within the 64 a UI allows', () => {
    expect(uuidToUid('00000000-0000-0000-0000-000000000001')).toBe('2.25.1');
    const max = uuidToUid('ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(max).toBe(`2.25.${(2n ** 128n - 1n).toString()}`);
    expect(max.length).toBe(44);
    expect(uuidToUid('2ed6657d-e927-568b-95e1-2665a8aea6a2')).toBe(
      `2.25.${BigInt('0x2ed6657de927568b95e12665a8aea6a2').toString()}`,
    );
  });

  it('gives the same UID for the same kind and subject, every time', () => {
    const a = deterministicUid('sc', 'result-1|sha');
    expect(deterministicUid('sc', 'result-1|sha')).toBe(a);
    expect(a).toMatch(UID_FORMAT);
    expect(a.length).toBeLessThanOrEqual(64);
  });

  it('gives different UIDs for different kinds or subjects', () => {
    const uids = new Set([
      deterministicUid('sc', 'result-1'),
      deterministicUid('sr', 'result-1'),
      deterministicUid('sc-series', 'result-1'),
      deterministicUid('sc', 'result-2'),
    ]);
    expect(uids.size).toBe(4);
  });

  it('is valid for many subjects (no leading zeros, never longer than 64)', () => {
    for (let i = 0; i < 2000; i++) {
      const uid = deterministicUid('tracking', `subject-${i}`);
      expect(uid).toMatch(UID_FORMAT);
      expect(uid.length).toBeLessThanOrEqual(64);
    }
  });

  it('refuses an empty subject', () => {
    expect(() => deterministicUid('sr', '')).toThrow(/empty subject/);
  });
});
