import { spawn } from 'node:child_process';
import type { CommandResult, ControllerShell } from '../../app/ports.js';
import { childEnvironment } from '../child-environment.js';
import { OutputTail } from '../ssh/output-tail.js';

/** How long a timed-out command has to end after SIGTERM before its whole process group is killed. */
const GRACE_MS = 2_000;

/**
 * Runs hook commands on this machine with /bin/sh, each in a process group of its own so that a
 * timeout stops what the command started too (a curl in a pipeline, say), not only the shell.
 */
export class ChildProcessShell implements ControllerShell {
  constructor(private readonly options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {}

  run(command: string, options: { timeoutMs: number }): Promise<CommandResult> {
    const started = performance.now();
    const stdout = new OutputTail();
    const stderr = new OutputTail();
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(this.options.cwd === undefined ? {} : { cwd: this.options.cwd }),
        env: childEnvironment(this.options.env),
      });
      let timedOut = false;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // The group has already gone.
        }
      };
      let force: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        force = setTimeout(() => {
          signalGroup('SIGKILL');
          // Something that left the group (setsid, a daemon) may hold the pipes open for ever:
          // stop reading them, so the command ends here and the rollout goes on.
          child.stdout.destroy();
          child.stderr.destroy();
        }, GRACE_MS);
      }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const end = (exitCode: number | null, extra = '') => {
        clearTimeout(timer);
        clearTimeout(force);
        resolve({
          exitCode: timedOut ? null : exitCode,
          timedOut,
          stdoutTail: stdout.text(),
          stderrTail: `${stderr.text()}${extra}`,
          durationMs: Math.round(performance.now() - started),
        });
      };
      child.once('error', (error) => end(null, `could not run /bin/sh: ${error.message}`));
      child.once('close', (code) => end(code));
    });
  }
}
