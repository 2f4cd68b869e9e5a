import { buildProgram } from '../main';

/** Runs `xray ARGS…` in process and returns what it printed on stdout and console.log (stderr is silenced). */
export async function runCli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  // console.log under jest goes to jest's buffered console, not process.stdout: capture it as printed lines.
  const consoleLog = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    chunks.push(`${args.map(String).join(' ')}\n`);
  });
  const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'xray', ...args]);
  } finally {
    write.mockRestore();
    log.mockRestore();
    consoleLog.mockRestore();
    consoleError.mockRestore();
  }
  return chunks.join('');
}
