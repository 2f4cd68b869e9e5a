import { formatDicomDestination, parseDicomDestination, validateAeTitle } from './destination';

describe('DICOM destinations', () => {
  it('parses AE@HOST:PORT', () => {
    expect(parseDicomDestination('PACS@pacs.example.org:11112')).toEqual({
      aeTitle: 'PACS',
      host: 'pacs.example.org',
      port: 11112,
    });
    expect(parseDicomDestination('ORTHANC@127.0.0.1:4242')).toEqual({
      aeTitle: 'ORTHANC',
      host: '127.0.0.1',
      port: 4242,
    });
    expect(parseDicomDestination('MY AE@[::1]:104')).toEqual({ aeTitle: 'MY AE', host: '::1', port: 104 });
  });

  it('round-trips through format', () => {
    for (const text of ['PACS@pacs:104', 'A@[fe80::1]:11112']) {
      expect(formatDicomDestination(parseDicomDestination(text))).toBe(text);
    }
  });

  it.each([
    ['pacs:104', /not AE@HOST:PORT/],
    ['PACS@pacs', /not AE@HOST:PORT/],
    ['PACS@pacs:0', /out of range/],
    ['PACS@pacs:70000', /out of range/],
    ['ABCDEFGHIJKLMNOPQ@pacs:104', /1 to 16 characters/],
    ['A\\B@pacs:104', /no backslash/],
    ['   @pacs:104', /not AE@HOST:PORT/],
    ['PACS@bad_host:104', /not AE@HOST:PORT/],
  ])('rejects %s', (text, message) => {
    expect(() => parseDicomDestination(text)).toThrow(message);
  });

  it('validates calling AE titles too', () => {
    expect(validateAeTitle('XRAY')).toBe('XRAY');
    expect(() => validateAeTitle('')).toThrow(/1 to 16/);
    expect(() => validateAeTitle('   ')).toThrow(/all spaces/);
    expect(() => validateAeTitle('ÄE')).toThrow(/printable ASCII/);
  });
});
