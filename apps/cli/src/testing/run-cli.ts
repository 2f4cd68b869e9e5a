import { buildProgram } from '../main';

/** Runs `xray ARGS…` in process and returns what it printed on stdout (stderr is silenced). */
export async function runCli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'xray', ...args]);
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
  return chunks.join('');
}
