import { createHash } from 'node:crypto';

/** Namespace of every UID this product derives (a fixed random UUID; never change it). */
const XRAY_UID_NAMESPACE = '6f1c2f0e-52a4-4c0b-9b0e-3d6a1f4b8e27';

/** The objects we make; each kind gets its own UID space under the same result id. */
export type DicomObjectKind =
  | 'sr'
  | 'sc'
  | 'sr-series'
  | 'sc-series'
  | 'tracking'
  | 'device'
  | 'source-study'
  | 'source-series'
  | 'source-instance';

/** Name-based UUID (RFC 9562 version 5: SHA-1 of namespace + name). */
export function uuidV5(name: string, namespace = XRAY_UID_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** PS3.5 B.2: a UUID as a UID is "2.25." and its 128-bit value in decimal (at most 44 characters). */
export function uuidToUid(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replace(/-/g, '')}`).toString(10)}`;
}

/**
 * The UID of one object, derived from what it is about, so a retried export or a re-sent study
 * produces the same UIDs and receivers store the same instance again instead of a duplicate.
 * `subject` is the result id (per-instance objects), the study UID (series, per-study SR) or a
 * model hash (device).
 */
export function deterministicUid(kind: DicomObjectKind, subject: string): string {
  if (!subject) throw new Error(`deterministicUid: empty subject for ${kind}`);
  return uuidToUid(uuidV5(`${kind}:${subject}`));
}
