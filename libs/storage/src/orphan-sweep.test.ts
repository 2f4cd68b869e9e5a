import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import S3rver from 's3rver';
import { clientKey, FsObjectStore, S3ObjectStore, sweepOrphans, type ObjectStore } from './index';

const CLIENT = 'client-sweep';
const studyKey = (studyId: string, ...parts: string[]) => clientKey(CLIENT, 'studies', studyId, ...parts);

/** A committed study, an orphan (no row) and a young orphan (maybe an upload in flight), each with an original. */
async function seed(store: ObjectStore) {
  const [committed, orphan, young] = [randomUUID(), randomUUID(), randomUUID()];
  for (const id of [committed, orphan, young]) {
    await store.put(studyKey(id, randomUUID(), 'original'), Buffer.from(`bytes of ${id}`));
    await store.put(studyKey(id, randomUUID(), 'original'), Buffer.from(`more bytes of ${id}`));
  }
  return { committed, orphan, young };
}

async function keysOf(store: ObjectStore, studyId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of store.list(clientKey(CLIENT, 'studies', studyId))) keys.push(key);
  return keys;
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).map((e) =>
    path.relative(dir, path.join(e.parentPath, e.name)),
  );
}

describe('orphan sweep on the filesystem store', () => {
  let dir: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xray-sweep-'));
    store = new FsObjectStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('removes studies without a row and stale temp files, older than the threshold only', async () => {
    const { committed, orphan, young } = await seed(store);
    const hourAgo = new Date(Date.now() - 3600_000);
    // The committed and orphan studies are old; so is a partial upload killed during its first file.
    const oldTemp = path.join(dir, studyKey(randomUUID(), randomUUID(), `original.${randomUUID()}.tmp`));
    const youngTemp = path.join(dir, studyKey(young, randomUUID(), `original.${randomUUID()}.tmp`));
    for (const temp of [oldTemp, youngTemp]) {
      await rm(path.dirname(temp), { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(temp), { recursive: true }));
      await writeFile(temp, 'partial');
    }
    for (const id of [committed, orphan])
      for (const file of await filesUnder(path.join(dir, clientKey(CLIENT, 'studies', id))))
        await utimes(path.join(dir, clientKey(CLIENT, 'studies', id), file), hourAgo, hourAgo);
    await utimes(oldTemp, hourAgo, hourAgo);

    const asked: string[][] = [];
    const result = await sweepOrphans(store, {
      olderThan: new Date(Date.now() - 60_000),
      existingStudies: async (ids) => (asked.push(ids), new Set(ids.filter((id) => id === committed))),
    });

    expect(result).toEqual({ orphanStudies: 1, incompleteWrites: 1 });
    expect(asked.flat().sort()).toEqual([committed, orphan].sort()); // the young study is not even a candidate
    expect(await keysOf(store, committed)).toHaveLength(2);
    expect(await keysOf(store, orphan)).toEqual([]);
    expect(await keysOf(store, young)).toHaveLength(2);
    const left = await filesUnder(path.join(dir, 'clients', CLIENT, 'studies'));
    expect(left.some((f) => f.startsWith(orphan))).toBe(false); // no empty folders either
    expect(left.some((f) => oldTemp.includes(f.split(path.sep)[0]))).toBe(false);
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([
      path.relative(path.join(dir, 'clients', CLIENT, 'studies'), youngTemp),
    ]);
  });

  it('leaves no empty folders when an upload is refused (its objects deleted)', async () => {
    const studyId = randomUUID();
    const keys = [studyKey(studyId, randomUUID(), 'original'), studyKey(studyId, randomUUID(), 'original')];
    for (const key of keys) await store.put(key, Buffer.from('x'));
    for (const key of keys) await store.delete(key);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('orphan sweep on the S3 store (s3rver in process)', () => {
  let s3rver: S3rver;
  let s3Dir: string;
  let store: S3ObjectStore;
  beforeAll(async () => {
    s3Dir = await mkdtemp(path.join(os.tmpdir(), 'xray-sweep-s3-'));
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir });
    const { port } = (await s3rver.run()) as { port: number };
    store = new S3ObjectStore({
      endPoint: '127.0.0.1',
      port,
      useSSL: false,
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      bucket: 'xray-sweep',
      region: 'us-east-1',
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await s3rver?.close();
    await rm(s3Dir, { recursive: true, force: true });
  });

  it('removes objects of studies without a row and incomplete multipart uploads older than the threshold', async () => {
    const { committed, orphan, young } = await seed(store);
    // s3rver does not implement ListMultipartUploads: the listing is given at the client, the removal checked there.
    const staleKey = studyKey(orphan, randomUUID(), 'original');
    const listing = jest.spyOn(Client.prototype, 'listIncompleteUploads').mockImplementation(
      () =>
        Readable.from([
          { key: staleKey, uploadId: 'u1', initiated: new Date(Date.now() - 3600_000), size: 0 },
          // Started after the threshold (the threshold is in the future here, see below).
          {
            key: studyKey(young, randomUUID(), 'original'),
            uploadId: 'u2',
            initiated: new Date(Date.now() + 60_000),
            size: 0,
          },
        ]) as never,
    );
    const removed = jest.spyOn(Client.prototype, 'removeIncompleteUpload').mockResolvedValue(undefined as never);

    const result = await sweepOrphans(store, {
      // Objects written just now count as old here: s3rver's modification times cannot be set back.
      olderThan: new Date(Date.now() + 1000),
      existingStudies: async (ids) => new Set(ids.filter((id) => id === committed || id === young)),
    });

    expect(result).toEqual({ orphanStudies: 1, incompleteWrites: 1 });
    expect(await keysOf(store, orphan)).toEqual([]);
    expect(await keysOf(store, committed)).toHaveLength(2);
    expect(await keysOf(store, young)).toHaveLength(2);
    expect(listing).toHaveBeenCalled();
    expect(removed.mock.calls.map(([, key]) => key)).toEqual([staleKey]);
  });
});
