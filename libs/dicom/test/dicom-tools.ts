/**
 * The DICOM command-line tools the tests check our objects with (Debian dicom3tools and dcmtk).
 * CI installs them; a missing tool fails the test instead of skipping it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { requireTool } from '@xray/testing';

export { requireTool } from '@xray/testing';

export interface Dciodvfy {
  errors: string[];
  warnings: string[];
  output: string;
}

/** Runs dciodvfy (IOD and attribute checks) on a file; its messages split into errors and warnings. */
export function dciodvfy(file: string): Dciodvfy {
  requireTool('dciodvfy');
  const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  const lines = output.split('\n').map((l) => l.trim());
  return {
    errors: lines.filter((l) => l.startsWith('Error')),
    warnings: lines.filter((l) => l.startsWith('Warning')),
    output,
  };
}

/** dcmtk tool output (dsrdump, dcmdump); throws with stderr when the tool fails. */
export function dcmtk(tool: 'dsrdump' | 'dcmdump', args: string[]): string {
  requireTool(tool);
  return execFileSync(tool, args, { encoding: 'utf8' });
}
