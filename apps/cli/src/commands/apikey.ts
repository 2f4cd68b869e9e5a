import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists but says it is not available yet.
export function register(program: Command): void {
  program
    .command('apikey')
    .description('(not available yet)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('`xray apikey` is not available yet');
    });
}
