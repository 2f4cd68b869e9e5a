import { Command } from 'commander';
import { COMMANDS } from './commands';

/** `xray`: one program, one module per sub-command (apps/cli/src/commands). */
export function buildProgram(): Command {
  const program = new Command('xray').description(
    'Body-part classification of radiographs: tools for users and operators.',
  );
  for (const register of COMMANDS) register(program);
  return program;
}

export async function run(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error: unknown) {
    console.error(`xray: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void run();
