import { runCli } from '../../src/cli.js';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the `baton` command in-process with the given arguments and environment. */
export async function baton(
  args: string[],
  env: Record<string, string> = {},
  now: () => number = () => Date.UTC(2026, 10, 29, 12),
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env,
    now,
  });
  return { status, stdout, stderr };
}
