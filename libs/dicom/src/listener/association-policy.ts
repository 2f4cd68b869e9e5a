/**
 * Who may open an association (pure; PS3.8 9.3.4 for the reject codes). A calling AE title is
 * registered per client with `xray dicom-node add`, optionally pinned to one host.
 */

export type RejectCause = 'unknown-calling-ae' | 'wrong-called-ae' | 'host-mismatch' | 'local-limit-exceeded';

/** A-ASSOCIATE-RJ result / source / reason (PS3.8 table 9-21). */
export interface RejectCodes {
  result: 1 | 2;
  source: 1 | 2 | 3;
  reason: number;
}

export const REJECT_CODES: Record<RejectCause, RejectCodes> = {
  // Service user: 3 calling-AE-title-not-recognized, 7 called-AE-title-not-recognized; permanent.
  'unknown-calling-ae': { result: 1, source: 1, reason: 3 },
  // A known AE from a host it is not registered for is, to the sender, an AE we do not recognise there.
  'host-mismatch': { result: 1, source: 1, reason: 3 },
  'wrong-called-ae': { result: 1, source: 1, reason: 7 },
  // Service provider (presentation): 2 local-limit-exceeded; transient, the sender may retry.
  'local-limit-exceeded': { result: 2, source: 3, reason: 2 },
};

export interface AssociationRequest {
  callingAeTitle: string;
  calledAeTitle: string;
  /** Peer address as the socket reports it (IPv4-mapped IPv6 is normalised). */
  peerAddress: string | undefined;
}

export interface RegisteredNode {
  clientId: string;
  host: string | null;
}

export type AssociationDecision = { accept: true; clientId: string } | { accept: false; cause: RejectCause };

export function normaliseAddress(address: string | undefined): string | undefined {
  return address?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

export function decideAssociation(
  request: AssociationRequest,
  context: {
    ourAeTitle: string;
    node: RegisteredNode | undefined;
    activeAssociations: number;
    maxAssociations: number;
  },
): AssociationDecision {
  if (request.calledAeTitle.trim() !== context.ourAeTitle) return { accept: false, cause: 'wrong-called-ae' };
  if (!context.node) return { accept: false, cause: 'unknown-calling-ae' };
  if (context.node.host && normaliseAddress(context.node.host) !== normaliseAddress(request.peerAddress))
    return { accept: false, cause: 'host-mismatch' };
  if (context.activeAssociations >= context.maxAssociations) return { accept: false, cause: 'local-limit-exceeded' };
  return { accept: true, clientId: context.node.clientId };
}
