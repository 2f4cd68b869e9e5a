import { data } from 'dcmjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toArrayBuffer } from '../src/results';

export type Natural = Record<string, any>;

/** A Part 10 file read back with dcmjs, keyed by keyword. */
export function readDicom(bytes: Buffer): Natural {
  return data.DicomMetaDictionary.naturalizeDataset(data.DicomMessage.readFile(toArrayBuffer(bytes)).dict);
}

/** A temp folder for files the command-line tools read; removed by the returned function. */
export function tempDir(prefix: string): {
  dir: string;
  file: (name: string, bytes: Buffer) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    file: (name, bytes) => {
      const target = path.join(dir, name);
      writeFileSync(target, bytes);
      return target;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Content items under `item` whose concept name has this code value. */
export function children(item: Natural, codeValue: string): Natural[] {
  return ((item.ContentSequence ?? []) as Natural[]).filter(
    (c) => [c.ConceptNameCodeSequence].flat()[0]?.CodeValue === codeValue,
  );
}
