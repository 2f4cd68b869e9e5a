import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { APPS, CONFIG_SCHEMA } from './schema';

/** The cells of every markdown table row, trimmed (the formatter pads columns to equal width). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

describe('docs/configuration.md', () => {
  const rows = tableRows(readFileSync(path.resolve(__dirname, '../../../../docs/configuration.md'), 'utf8'));

  it('documents every variable with its default', () => {
    for (const spec of Object.values(CONFIG_SCHEMA)) {
      const row = rows.find((cells) => cells[0] === `\`${spec.name}\``);
      expect([spec.name, row?.join(' | ')]).toEqual([
        spec.name,
        expect.stringContaining(spec.default !== undefined ? `\`${spec.default}\`` : '—'),
      ]);
    }
  });

  it("documents every app's port and probes", () => {
    for (const [app, spec] of Object.entries(APPS))
      expect(rows).toContainEqual(
        expect.arrayContaining([
          app,
          String(spec.defaultPort),
          `\`${spec.probes.liveness}\``,
          `\`${spec.probes.readiness}\``,
        ]),
      );
  });
});
