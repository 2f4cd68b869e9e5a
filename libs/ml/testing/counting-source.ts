import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ModelPackageSource } from '../src/package/package-source';

/** A package folder served as object storage that records every file read (to count card reads). */
export function countingSource(dir: string): { source: ModelPackageSource; reads: string[] } {
  const reads: string[] = [];
  const store = {
    get: async (key: string) => {
      reads.push(key);
      return readFile(path.join(dir, key));
    },
  };
  return { source: { store, prefix: '' }, reads };
}
