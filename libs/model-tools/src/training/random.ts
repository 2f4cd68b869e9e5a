import type { Random } from '@xray/shared';

export { seededRandom, type Random } from '@xray/shared';

/** Derives an independent seed from a base seed and a key (e.g. a file name and copy index). */
export function deriveSeed(seed: number, key: string): number {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}
