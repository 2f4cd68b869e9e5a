import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as H5 from 'h5wasm';

export type H5Module = typeof H5;

let loading: Promise<H5Module> | undefined;

/**
 * h5wasm ships as ES modules only; the project compiles to CommonJS (and jest runs CommonJS),
 * so its self-contained IIFE build (wasm embedded) is evaluated once instead.
 */
export function h5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    // Its package exports no CommonJS entry, so look the file up in the node_modules folders.
    const file = (require.resolve.paths('h5wasm') ?? [])
      .map((dir) => path.join(dir, 'h5wasm', 'dist', 'iife', 'h5wasm.js'))
      .find((candidate) => fs.existsSync(candidate));
    if (!file) throw new Error('the h5wasm package is not installed');
    const code = fs.readFileSync(file, 'utf8');
    const h5 = new Function('require', 'process', `${code}\nreturn h5wasm;`)(require, process) as H5Module;
    await h5.ready;
    return h5;
  })();
  return loading;
}

let counter = 0;

/** Opens HDF5 bytes read-only (in h5wasm's in-memory filesystem); `use` must not keep the file. */
export async function withH5File<T>(bytes: Uint8Array, use: (file: H5.File) => T | Promise<T>): Promise<T> {
  const h5 = await h5wasm();
  const name = `/xray-${process.pid}-${++counter}.h5`;
  h5.FS!.writeFile(name, bytes);
  const file = new h5.File(name, 'r');
  try {
    return await use(file);
  } finally {
    file.close();
    h5.FS!.unlink(name);
  }
}

/** Creates an HDF5 file with `write` and returns its bytes (used to build test fixtures). */
export async function createH5File(write: (file: H5.File, h5: H5Module) => void): Promise<Uint8Array> {
  const h5 = await h5wasm();
  const name = `/xray-${process.pid}-${++counter}.h5`;
  const file = new h5.File(name, 'w');
  try {
    write(file, h5);
  } finally {
    file.close();
  }
  const bytes = h5.FS!.readFile(name) as Uint8Array;
  h5.FS!.unlink(name);
  return bytes;
}
