import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, rmdir, stat, unlink, writeFile, access } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingStream } from './hashing';
import { ObjectNotFoundError, type ListedObject, type ObjectStore, type StoredObject } from './object-store';

const TEMP_SUFFIX = '.tmp';

/** Objects as files under `root`. Writes go to a temp file renamed into place (atomic). */
export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private file(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) throw new Error(`object key escapes the store: ${key}`);
    return file;
  }

  async put(key: string, body: Readable | Buffer): Promise<StoredObject> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomUUID()}${TEMP_SUFFIX}`;
    const hasher = new HashingStream();
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, hasher, createWriteStream(temp));
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      await this.removeEmptyParents(file);
      throw error;
    }
    return { key, size: hasher.size, sha256: hasher.digest() };
  }

  async getStream(key: string): Promise<Readable> {
    if (!(await this.exists(key))) throw new ObjectNotFoundError(key);
    return createReadStream(this.file(key));
  }

  async getBuffer(key: string): Promise<Buffer> {
    try {
      return await readFile(this.file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.file(key))).isFile();
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.file(key);
    await unlink(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await this.removeEmptyParents(file);
  }

  async deletePrefix(prefix: string): Promise<void> {
    const dir = this.file(prefix.replace(/\/+$/, ''));
    await rm(dir, { recursive: true, force: true });
    await this.removeEmptyParents(dir);
  }

  /** Folders left empty by a delete go too (a refused upload leaves no empty study folder). */
  private async removeEmptyParents(file: string): Promise<void> {
    for (let dir = path.dirname(file); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) {
      try {
        await rmdir(dir); // fails unless empty: another object lives there, stop
      } catch {
        return;
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    for await (const { file, modifiedAt } of this.walk(this.file(prefix.replace(/\/+$/, ''))))
      if (!file.endsWith(TEMP_SUFFIX))
        yield { key: path.relative(this.root, file).split(path.sep).join('/'), modifiedAt };
  }

  async removeIncomplete(before: Date): Promise<number> {
    let removed = 0;
    for await (const { file, modifiedAt } of this.walk(this.root))
      if (file.endsWith(TEMP_SUFFIX) && modifiedAt < before) {
        await rm(file, { force: true });
        await this.removeEmptyParents(file);
        removed++;
      }
    return removed;
  }

  private async *walk(dir: string): AsyncGenerator<{ file: string; modifiedAt: Date }> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return;
      throw error;
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) yield* this.walk(file);
      else if (entry.isFile()) {
        const info = await stat(file).catch(() => undefined); // removed meanwhile
        if (info) yield { file, modifiedAt: info.mtime };
      }
    }
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const probe = path.join(this.root, `.probe-${randomUUID()}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
    await access(this.root);
  }
}
