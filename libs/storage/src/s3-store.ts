import { Readable } from 'node:stream';
import { Client } from 'minio';
import type { BucketItem } from 'minio';
import { HashingStream } from './hashing';
import { ObjectNotFoundError, type ListedObject, type ObjectStore, type StoredObject } from './object-store';

export interface S3StoreOptions {
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

/** Objects in an S3-compatible bucket (MinIO, AWS S3, Ceph RGW) through the minio client. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private bucketReady?: Promise<void>;

  constructor(private readonly options: S3StoreOptions) {
    this.client = new Client({
      endPoint: options.endPoint,
      port: options.port,
      useSSL: options.useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      pathStyle: true,
    });
  }

  private get bucket(): string {
    return this.options.bucket;
  }

  /** Creates the bucket on first use when it does not exist. */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      if (!(await this.client.bucketExists(this.bucket)))
        await this.client.makeBucket(this.bucket, this.options.region);
    })().catch((error) => {
      this.bucketReady = undefined;
      throw error;
    });
    return this.bucketReady;
  }

  /**
   * Streams in part by part: memory stays bounded by PART_SIZE. One part = one PUT;
   * more = an S3 multipart upload (aborted on error so no partial object remains).
   */
  async put(key: string, body: Readable | Buffer, contentType = 'application/octet-stream'): Promise<StoredObject> {
    await this.ensureBucket();
    const hasher = new HashingStream();
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    source.on('error', (error) => hasher.destroy(error));
    const parts = chunked(source.pipe(hasher), PART_SIZE)[Symbol.asyncIterator]();
    const first = await parts.next();
    const second = first.done ? first : await parts.next();
    if (second.done) {
      await this.client.putObject(this.bucket, key, first.done ? Buffer.alloc(0) : first.value, undefined, {
        'Content-Type': contentType,
      });
    } else {
      const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, { 'Content-Type': contentType });
      try {
        const etags: Array<{ part: number; etag: string }> = [];
        let part = first.value as Buffer | undefined;
        let next: IteratorResult<Buffer> = second;
        for (let partNumber = 1; part; partNumber++) {
          const { etag } = await this.client.uploadPart(
            { bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber, headers: {} },
            part,
          );
          etags.push({ part: partNumber, etag });
          part = next.done ? undefined : next.value;
          if (part) next = await parts.next();
        }
        await this.client.completeMultipartUpload(this.bucket, key, uploadId, etags);
      } catch (error) {
        await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
        throw error;
      }
    }
    return { key, size: hasher.size, sha256: hasher.digest() };
  }

  async getStream(key: string): Promise<Readable> {
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (error) {
      throw notFound(error, key);
    }
  }

  async getBuffer(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getStream(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.statObject(this.bucket, key);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys: string[] = [];
    const listing = this.client.listObjectsV2(this.bucket, prefix.replace(/\/*$/, '/'), true);
    for await (const item of listing as AsyncIterable<BucketItem>) if (item.name) keys.push(item.name);
    if (keys.length > 0) await this.client.removeObjects(this.bucket, keys);
  }

  async check(): Promise<void> {
    await this.ensureBucket();
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const listing = this.client.listObjectsV2(this.bucket, prefix.replace(/\/*$/, '/'), true);
    for await (const item of listing as AsyncIterable<BucketItem>)
      if (item.name) yield { key: item.name, modifiedAt: item.lastModified ?? new Date(0) };
  }

  async removeIncomplete(before: Date): Promise<number> {
    await this.ensureBucket();
    const stale: string[] = [];
    const uploads = this.client.listIncompleteUploads(this.bucket, '', true) as AsyncIterable<{
      key: string;
      initiated: Date;
    }>;
    for await (const upload of uploads) if (upload.initiated < before) stale.push(upload.key);
    // removeIncompleteUpload aborts every unfinished upload of that key.
    for (const key of new Set(stale)) await this.client.removeIncompleteUpload(this.bucket, key);
    return stale.length;
  }
}

/** Part size of streamed uploads (S3 allows 5 MiB and up); bounds memory per upload. */
const PART_SIZE = 8 * 1024 * 1024;

/** Regroups a byte stream into buffers of exactly `size` bytes (the last may be shorter). */
async function* chunked(stream: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= size) {
      const joined = Buffer.concat(pending);
      yield joined.subarray(0, size);
      pending = [joined.subarray(size)];
      pendingBytes -= size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}

function notFound(error: unknown, key: string): unknown {
  return isNotFound(error) ? new ObjectNotFoundError(key) : error;
}
