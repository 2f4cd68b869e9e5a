import { seededRandom } from '@xray/shared';

/** Seeded, reproducible corruptions of a file for the fuzz test. */
export interface FuzzCase {
  source: number;
  kind: 'truncate' | 'flip-bits' | 'flip-header-bits' | 'overwrite-word';
  seed: number;
}

export function planCases(seed: number, count: number, sourceWeights: number[]): FuzzCase[] {
  const random = seededRandom(seed);
  const total = sourceWeights.reduce((a, b) => a + b, 0);
  const kinds: FuzzCase['kind'][] = ['truncate', 'flip-bits', 'flip-header-bits', 'overwrite-word'];
  return Array.from({ length: count }, () => {
    let pick = random() * total;
    let source = 0;
    while (pick >= sourceWeights[source]) pick -= sourceWeights[source++];
    return { source, kind: kinds[Math.floor(random() * kinds.length)], seed: Math.floor(random() * 2 ** 32) };
  });
}

export function mutate(original: Uint8Array, fuzzCase: FuzzCase): Uint8Array {
  const random = seededRandom(fuzzCase.seed);
  const at = (limit: number) => Math.floor(random() * limit);
  if (fuzzCase.kind === 'truncate') return original.slice(0, at(original.length));
  const bytes = original.slice();
  if (fuzzCase.kind === 'overwrite-word') {
    // Often lands on a length or a value field: 0xFFFFFFFF, 0 or noise.
    const offset = at(Math.max(1, bytes.length - 4));
    const word = [0xff, 0x00, at(256)][at(3)];
    for (let i = 0; i < 4 && offset + i < bytes.length; i++)
      bytes[offset + i] = word === 0xff || word === 0 ? word : at(256);
    return bytes;
  }
  const region = fuzzCase.kind === 'flip-header-bits' ? Math.min(bytes.length, 1024) : bytes.length;
  const flips = 1 + at(8);
  for (let i = 0; i < flips && region > 0; i++) bytes[at(region)] ^= 1 << at(8);
  return bytes;
}
