import { readFile } from 'node:fs/promises';
import { decodeImage } from './decode';
import type { DecodedImage } from './types';

/** Reads and decodes an image file (the format comes from its content, not its name). */
export async function decodeFile(path: string): Promise<DecodedImage & { sizeBytes: number }> {
  const bytes = await readFile(path);
  const image = await decodeImage(bytes);
  return { ...image, sizeBytes: bytes.length };
}
