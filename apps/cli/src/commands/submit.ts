import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists but says it is not available yet.
export function register(program: Command): void {
  program
    .command('submit')
    .description('(not available yet)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('`xray submit` is not available yet');
    });
}
