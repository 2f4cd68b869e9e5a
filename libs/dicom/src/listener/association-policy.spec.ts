import { decideAssociation, REJECT_CODES } from './association-policy';
import { ContextResult, negotiateContext } from './presentation-contexts';

describe('decideAssociation', () => {
  const base = { ourAeTitle: 'XRAY', activeAssociations: 0, maxAssociations: 2 };
  const node = { clientId: 'c1', host: null };
  const request = { callingAeTitle: 'CT1', calledAeTitle: 'XRAY', peerAddress: '::ffff:10.0.0.5' };

  it('accepts a registered AE and names its client', () => {
    expect(decideAssociation(request, { ...base, node })).toEqual({ accept: true, clientId: 'c1' });
  });
  it('pins a node to its host (IPv4-mapped addresses compare as IPv4)', () => {
    expect(decideAssociation(request, { ...base, node: { clientId: 'c1', host: '10.0.0.5' } }).accept).toBe(true);
    expect(decideAssociation(request, { ...base, node: { clientId: 'c1', host: '10.0.0.6' } })).toEqual({
      accept: false,
      cause: 'host-mismatch',
    });
  });
  it('rejects unknown calling AE, wrong called AE and a full listener', () => {
    expect(decideAssociation(request, { ...base, node: undefined })).toEqual({
      accept: false,
      cause: 'unknown-calling-ae',
    });
    expect(decideAssociation({ ...request, calledAeTitle: 'PACS' }, { ...base, node })).toEqual({
      accept: false,
      cause: 'wrong-called-ae',
    });
    expect(decideAssociation(request, { ...base, node, activeAssociations: 2 })).toEqual({
      accept: false,
      cause: 'local-limit-exceeded',
    });
  });
  it('uses the PS3.8 result/source/reason codes', () => {
    expect(REJECT_CODES['unknown-calling-ae']).toEqual({ result: 1, source: 1, reason: 3 });
    expect(REJECT_CODES['wrong-called-ae']).toEqual({ result: 1, source: 1, reason: 7 });
    expect(REJECT_CODES['local-limit-exceeded']).toEqual({ result: 2, source: 3, reason: 2 });
  });
});

describe('negotiateContext', () => {
  const CR = '1.2.840.10008.5.1.4.1.1.1';
  it("takes the sender's first proposed syntax that libs/imaging decodes", () => {
    expect(negotiateContext(CR, ['1.2.840.10008.1.2.4.100', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.1'])).toEqual({
      result: ContextResult.Accept,
      transferSyntaxUid: '1.2.840.10008.1.2.4.80',
    });
  });
  it('refuses non-image SOP classes and undecodable syntaxes', () => {
    expect(negotiateContext('1.2.840.10008.5.1.4.1.1.88.11', ['1.2.840.10008.1.2.1']).result).toBe(
      ContextResult.AbstractSyntaxNotSupported,
    );
    expect(negotiateContext(CR, ['1.2.840.10008.1.2.4.100']).result).toBe(ContextResult.TransferSyntaxesNotSupported);
  });
  it('answers Verification in an uncompressed syntax', () => {
    expect(negotiateContext('1.2.840.10008.1.1', ['1.2.840.10008.1.2']).transferSyntaxUid).toBe('1.2.840.10008.1.2');
  });
});
