import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { APPS, CONFIG_SCHEMA } from './schema';

describe('docs/configuration.md', () => {
  // Table cells compared with their padding collapsed (Prettier aligns the columns).
  const doc = readFileSync(path.resolve(__dirname, '../../../../docs/configuration.md'), 'utf8')
    .split('\n')
    .map((line) => (line.startsWith('|') ? line.replace(/ {2,}/g, ' ') : line))
    .join('\n');

  it('documents every variable with its default', () => {
    for (const spec of Object.values(CONFIG_SCHEMA)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${spec.name}\` |`));
      expect([spec.name, row]).toEqual([
        spec.name,
        expect.stringContaining(spec.default !== undefined ? `\`${spec.default}\`` : '—'),
      ]);
    }
  });

  it("documents every app's port and probes", () => {
    for (const [app, spec] of Object.entries(APPS))
      expect(doc).toContain(
        `| ${app} | ${spec.defaultPort} | \`${spec.probes.liveness}\` | \`${spec.probes.readiness}\` |`,
      );
  });
});
