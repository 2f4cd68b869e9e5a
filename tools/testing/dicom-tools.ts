import { execFile, spawnSync } from 'node:child_process';

/**
 * DCMTK and Orthanc for DICOM tests. CI installs them with apt (dcmtk, orthanc,
 * orthanc-dicomweb): a missing tool fails the test that needs it, it never skips.
 */
export function requireTool(command: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (found.status !== 0)
    throw new Error(
      `${command} is not installed: apt-get install dcmtk dicom3tools orthanc orthanc-dicomweb (CI installs them)`,
    );
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for status lines DCMTK prints on either. */
  output: string;
}

/** Runs a tool to completion; a non-zero exit is a result, not an error. */
export function runTool(command: string, args: string[], timeoutMs = 120_000): Promise<ToolResult> {
  requireTool(command);
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as any).code === 'number' ? (error as any).code : 1) : 0;
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}
