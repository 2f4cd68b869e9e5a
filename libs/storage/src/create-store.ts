import { FsObjectStore } from './fs-store';
import type { ObjectStore } from './object-store';
import { S3ObjectStore, type S3StoreOptions } from './s3-store';

/** The storage part of the app configuration (see @xray/platform's StorageConfig). */
export type StoreConfig = { kind: 'fs'; dir: string } | ({ kind: 's3' } & S3StoreOptions);

export function createObjectStore(config: StoreConfig): ObjectStore {
  return config.kind === 's3' ? new S3ObjectStore(config) : new FsObjectStore(config.dir);
}
