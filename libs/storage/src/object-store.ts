import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  /** Hex sha256 of the bytes. */
  sha256: string;
}

/**
 * Object storage behind one interface: the local filesystem (embedded default) or any
 * S3-compatible service. Keys are '/'-separated; build them with `clientKey` so that every
 * client's objects live under their own prefix.
 */
export interface ObjectStore {
  readonly kind: 'fs' | 's3';
  /** Streams `body` in (never buffered whole), hashing as it goes. */
  put(key: string, body: Readable | Buffer, contentType?: string): Promise<StoredObject>;
  /** Rejects with ObjectNotFoundError when absent. */
  getStream(key: string): Promise<Readable>;
  getBuffer(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every key under a prefix. */
  deletePrefix(prefix: string): Promise<void>;
  /** Throws when the store cannot be used (readiness check). */
  check(): Promise<void>;
  /** Every stored object under a prefix with its last change (maintenance sweeps; unfinished writes excluded). */
  list(prefix: string): AsyncIterable<ListedObject>;
  /**
   * Removes writes that never finished and started before `before` (a process killed mid-upload):
   * `*.tmp` files on the filesystem, incomplete multipart uploads on S3. Returns how many.
   */
  removeIncomplete(before: Date): Promise<number>;
}

export interface ListedObject {
  key: string;
  modifiedAt: Date;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** `clients/<clientId>/<parts...>`; segments are checked so that no key escapes its prefix. */
export function clientKey(clientId: string, ...parts: string[]): string {
  for (const segment of [clientId, ...parts]) {
    if (!SAFE_SEGMENT.test(segment) || segment === '.' || segment === '..')
      throw new Error(`unsafe object key segment: ${JSON.stringify(segment)}`);
  }
  return ['clients', clientId, ...parts].join('/');
}

/** Where an instance's 8-bit rendering (PNG) is kept: written by the inference worker, read by the explain worker and the gateway. */
export function renderingKey(clientId: string, studyId: string, instanceId: string): string {
  return clientKey(clientId, 'studies', studyId, instanceId, 'image.png');
}
