import type { DicomObject } from '../results';

/** What the delivery clients send: an object's UID and its Part 10 bytes. */
export type OutgoingObject = Pick<DicomObject, 'sopInstanceUid' | 'bytes'>;

/** What happened to one object at one destination. */
export type DeliveryStatus = 'stored' | 'failed' | 'retryable';

export interface DeliveryResult {
  sopInstanceUid: string;
  /** stored: the destination has it; failed: it refused it for good; retryable: try again later. */
  status: DeliveryStatus;
  /** Why it failed, or the warning it was stored with. */
  reason?: string;
  /** The DIMSE status (C-STORE) or the DICOMweb FailureReason / WarningReason, when there is one. */
  code?: number;
}

const hex = (code: number) => `0x${code.toString(16).padStart(4, '0').toUpperCase()}`;

/**
 * Classifies a C-STORE status (PS3.4 B.2.3, PS3.7 C) or a STOW-RS Failure/Warning Reason (PS3.18
 * Table 10.5.3-1, the same codes). Out of resources and processing failures are worth a retry;
 * a refused SOP class or data set is not. A duplicate instance means the destination has it.
 */
export function classifyStatus(code: number): { status: DeliveryStatus; reason?: string } {
  if (code === 0x0000) return { status: 'stored' };
  if (code === 0x0001 || code === 0xb000 || code === 0xb006 || code === 0xb007) {
    return { status: 'stored', reason: `stored with warning ${hex(code)}` };
  }
  if (code === 0x0111) return { status: 'stored', reason: `duplicate SOP instance ${hex(code)}: already stored` };
  if ((code & 0xff00) === 0xa700) return { status: 'retryable', reason: `out of resources ${hex(code)}` };
  if (code === 0x0110) return { status: 'retryable', reason: `processing failure ${hex(code)}` };
  if (code === 0x0213) return { status: 'retryable', reason: `resource limitation ${hex(code)}` };
  if (code === 0x0122) return { status: 'failed', reason: `SOP class not supported ${hex(code)}` };
  if ((code & 0xff00) === 0xa900) return { status: 'failed', reason: `data set does not match SOP class ${hex(code)}` };
  if ((code & 0xf000) === 0xc000) return { status: 'failed', reason: `cannot understand ${hex(code)}` };
  return { status: 'failed', reason: `refused with status ${hex(code)}` };
}
