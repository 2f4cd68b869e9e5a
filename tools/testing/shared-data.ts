import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `../shared` beside the repository (real data and models that may not be committed).
 * XRAY_SHARED_DIR overrides it.
 */
export const SHARED_DIR = process.env.XRAY_SHARED_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared');

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

export function missingShared(relPaths: string[]): string[] {
  return relPaths.filter((rel) => !fs.existsSync(sharedPath(rel)));
}

/**
 * `describe` for suites that need ../shared data: when any path is absent the suite is
 * skipped and its title says which data is missing, so a fresh clone still passes.
 */
export function describeWithShared(name: string, relPaths: string[], body: () => void): void {
  const missing = missingShared(relPaths);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const skip = describe.skip;
  skip(`${name} [skipped: ${missing.map((m) => `../shared/${m}`).join(', ')} absent]`, body);
}
