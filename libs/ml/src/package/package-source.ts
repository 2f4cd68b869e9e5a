import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { XrayError } from '@xray/shared';

/** What a model package can be read from besides a folder: anything with `get(key)`, or
 * libs/storage's ObjectStore (`getBuffer(key)`). */
export type ObjectGetter = { get(key: string): Promise<Buffer> } | { getBuffer(key: string): Promise<Buffer> };

/** A folder on the filesystem, or a key prefix in object storage (e.g. `models/bodypart/1.0.0`). */
export type ModelPackageSource = string | { store: ObjectGetter; prefix: string };

/** Reads files of a package by their name relative to the package root. */
export interface PackageReader {
  readonly description: string;
  read(name: string): Promise<Buffer>;
}

export function packageReader(source: ModelPackageSource): PackageReader {
  if (typeof source === 'string') {
    const dir = path.resolve(source);
    return {
      description: dir,
      read: async (name) => {
        try {
          return await fs.readFile(path.join(dir, name));
        } catch (error) {
          throw missing(`${dir}/${name}`, error);
        }
      },
    };
  }
  const prefix = source.prefix.replace(/\/+$/, '');
  const store = source.store;
  const get = (key: string) => ('getBuffer' in store ? store.getBuffer(key) : store.get(key));
  return {
    description: `object storage ${prefix}/`,
    read: async (name) => {
      try {
        return await get(prefix ? `${prefix}/${name}` : name);
      } catch (error) {
        throw missing(`${prefix}/${name}`, error);
      }
    },
  };
}

function missing(where: string, cause: unknown): XrayError {
  if (cause instanceof XrayError) return cause;
  return new XrayError('MODEL_NOT_FOUND', `model package file not found: ${where}`, { cause });
}
