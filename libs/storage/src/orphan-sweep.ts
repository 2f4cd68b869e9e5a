import type { ObjectStore } from './object-store';

export interface OrphanSweepOptions {
  /** Only objects and unfinished writes last changed before this are candidates (uploads in flight are younger). */
  olderThan: Date;
  /** The study ids (of those given) that have a database row. */
  existingStudies(ids: string[]): Promise<Set<string>>;
}

export interface OrphanSweepResult {
  /** Study folders removed because no study row owns them. */
  orphanStudies: number;
  /** Unfinished writes removed (`*.tmp` files, incomplete multipart uploads). */
  incompleteWrites: number;
}

/** `clients/<clientId>/studies/<studyId>/...` -> the study's prefix and id. */
const STUDY_KEY = /^(clients\/[^/]+\/studies\/([0-9a-f-]{36}))\//i;

/**
 * Removes what a gateway killed mid-upload leaves behind: objects of studies that were never
 * committed (no row, nothing newer than `olderThan`) and unfinished writes older than it.
 * Committed studies are never touched: their rows are looked up before anything is deleted.
 */
export async function sweepOrphans(store: ObjectStore, options: OrphanSweepOptions): Promise<OrphanSweepResult> {
  const newest = new Map<string, { prefix: string; modifiedAt: Date }>();
  for await (const object of store.list('clients')) {
    const match = STUDY_KEY.exec(object.key);
    if (!match) continue;
    const seen = newest.get(match[2]);
    if (!seen || object.modifiedAt > seen.modifiedAt)
      newest.set(match[2], { prefix: match[1], modifiedAt: object.modifiedAt });
  }
  const candidates = [...newest.entries()].filter(([, s]) => s.modifiedAt < options.olderThan).map(([id]) => id);
  const existing = await options.existingStudies(candidates);
  let orphanStudies = 0;
  for (const id of candidates)
    if (!existing.has(id)) {
      await store.deletePrefix(newest.get(id)!.prefix);
      orphanStudies++;
    }
  const incompleteWrites = await store.removeIncomplete(options.olderThan);
  return { orphanStudies, incompleteWrites };
}
