import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import S3rver from 's3rver';
import { clientKey, FsObjectStore, ObjectNotFoundError, S3ObjectStore, type ObjectStore } from './index';

/** The same behaviour is required of every implementation. */
function contract(name: string, makeStore: () => ObjectStore) {
  describe(name, () => {
    const store = () => makeStore();

    it('streams an object in, with its sha256 and size, and reads it back', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const key = clientKey('client-a', 'studies', 's1', 'original');
      // Many small chunks: the store must not need the whole body up front.
      const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) =>
        bytes.subarray(i * 65536, (i + 1) * 65536),
      );
      const stored = await store().put(key, Readable.from(chunks));
      expect(stored).toEqual({ key, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect((await store().getBuffer(key)).equals(bytes)).toBe(true);
      const streamed: Buffer[] = [];
      for await (const chunk of await store().getStream(key)) streamed.push(chunk as Buffer);
      expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
      expect(await store().exists(key)).toBe(true);
    });

    it('reports absent objects, deletes idempotently and by prefix', async () => {
      const key = clientKey('client-b', 'x.png');
      await expect(store().getBuffer(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store().getStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store().exists(key)).toBe(false);
      await store().put(key, Buffer.from('png'));
      await store().put(clientKey('client-b', 'y', 'z.png'), Buffer.from('z'));
      await store().put(clientKey('client-c', 'keep.png'), Buffer.from('keep'));
      await store().delete(key);
      await store().delete(key);
      expect(await store().exists(key)).toBe(false);
      await store().deletePrefix(clientKey('client-b'));
      expect(await store().exists(clientKey('client-b', 'y', 'z.png'))).toBe(false);
      expect((await store().getBuffer(clientKey('client-c', 'keep.png'))).toString()).toBe('keep');
    });

    it('keeps nothing when the source stream fails half way', async () => {
      const key = clientKey('client-d', 'broken');
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(1024));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(store().put(key, failing)).rejects.toThrow();
      expect(await store().exists(key)).toBe(false);
    });

    it('passes its readiness check', async () => {
      await expect(store().check()).resolves.toBeUndefined();
    });
  });
}

describe('object keys', () => {
  it('namespaces per client and refuses path tricks', () => {
    expect(clientKey('c1', 'studies', 'abc', 'original')).toBe('clients/c1/studies/abc/original');
    expect(() => clientKey('c1', '..', 'c2')).toThrow(/unsafe/);
    expect(() => clientKey('c1/../c2')).toThrow(/unsafe/);
  });
});

let dir: string;
let fsStore: FsObjectStore;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'xray-fs-store-'));
  fsStore = new FsObjectStore(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

contract('filesystem store', () => fsStore);

describe('filesystem store atomicity', () => {
  it('leaves no temporary files behind', async () => {
    await fsStore.put(clientKey('client-e', 'a'), Buffer.from('a'));
    const files = await readdir(path.join(dir, 'clients', 'client-e'));
    expect(files).toEqual(['a']);
  });
});

let s3rver: S3rver;
let s3Store: S3ObjectStore;
let s3Dir: string;
beforeAll(async () => {
  s3Dir = await mkdtemp(path.join(os.tmpdir(), 'xray-s3rver-'));
  s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir });
  const { port } = (await s3rver.run()) as { port: number };
  s3Store = new S3ObjectStore({
    endPoint: '127.0.0.1',
    port,
    useSSL: false,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    bucket: 'xray-test',
    region: 'us-east-1',
  });
});
afterAll(async () => {
  await s3rver?.close();
  await rm(s3Dir, { recursive: true, force: true });
});

contract('S3 store (s3rver in process)', () => s3Store);

describe('S3 store multipart uploads (s3rver in process)', () => {
  it('streams a body larger than one part as a multipart upload and reads it back whole', async () => {
    const bytes = randomBytes(2 * 8 * 1024 * 1024 + 5); // three parts of the 8 MiB part size
    const key = clientKey('client-m', 'large');
    const chunks = Array.from({ length: Math.ceil(bytes.length / (1 << 20)) }, (_, i) =>
      bytes.subarray(i << 20, (i + 1) << 20),
    );
    const stored = await s3Store.put(key, Readable.from(chunks));
    expect(stored).toEqual({ key, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect((await s3Store.getBuffer(key)).equals(bytes)).toBe(true);
  }, 60_000);

  it('aborts the multipart upload and keeps nothing when the source fails after a part was sent', async () => {
    // s3rver does not implement AbortMultipartUpload, so the abort is checked at the client.
    const abort = jest.spyOn(Client.prototype, 'abortMultipartUpload');
    const uploadPart = jest.spyOn(Client.prototype, 'uploadPart');
    const key = clientKey('client-m', 'broken-large');
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent >= 20 * 1024 * 1024) return void this.destroy(new Error('client went away'));
        sent += 1 << 20;
        this.push(randomBytes(1 << 20));
      },
    });
    await expect(s3Store.put(key, failing)).rejects.toThrow(/client went away/);
    expect(uploadPart).toHaveBeenCalledTimes(1);
    expect(abort).toHaveBeenCalledWith('xray-test', key, expect.any(String));
    expect(await s3Store.exists(key)).toBe(false);
    abort.mockRestore();
    uploadPart.mockRestore();
  }, 60_000);
});
