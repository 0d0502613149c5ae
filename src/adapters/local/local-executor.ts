import { spawn } from 'node:child_process';
import {
  ConnectionError,
  type CommandResult,
  type HostTarget,
  type RemoteExecutor,
} from '../../app/ports.js';
import { OutputTail } from '../ssh/output-tail.js';

/** After a timeout's SIGTERM, how long a command has before SIGKILL. */
const KILL_AFTER_MS = 2000;

/**
 * Runs a playbook's commands on this machine, for local mode's demo hosts: each command gets its
 * host's address in BATON_HOST_ADDRESS. It only serves loopback hosts, so a real playbook given
 * to local mode by mistake changes nothing anywhere.
 */
export class LocalExecutor implements RemoteExecutor {
  async connect(target: HostTarget): Promise<void> {
    if ((target.jump ?? []).length > 0)
      throw new ConnectionError(
        'unreachable',
        target.name,
        `${target.name} is behind jump hosts (ssh.jump, or ProxyJump in the ssh config): local mode runs commands on this machine and goes through none. Use SSH (BATON_KNOWN_HOSTS) for real hosts.`,
      );
    if (!/^127\.\d+\.\d+\.\d+$/.test(target.address))
      throw new ConnectionError(
        'unreachable',
        target.name,
        `${target.name} (${target.address}) is not a loopback address: local mode runs commands on this machine and only for its demo hosts. Use SSH (BATON_KNOWN_HOSTS) for real hosts.`,
      );
  }

  async run(
    target: HostTarget,
    command: string,
    options: { timeoutMs: number },
  ): Promise<CommandResult> {
    await this.connect(target);
    const started = Date.now();
    const stdout = new OutputTail();
    const stderr = new OutputTail();
    // Its own process group, so a timeout stops everything the command started.
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...process.env, BATON_HOST_ADDRESS: target.address, BATON_HOST_NAME: target.name },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const signal = (name: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, name);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      signal('SIGTERM');
      setTimeout(() => signal('SIGKILL'), KILL_AFTER_MS).unref();
    }, options.timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => {
      child.once('error', (error) => {
        stderr.push(Buffer.from(String(error)));
        resolve(null);
      });
      child.once('close', (code) => resolve(code));
    });
    clearTimeout(timer);
    return {
      exitCode: timedOut ? null : exitCode,
      timedOut,
      stdoutTail: stdout.text(),
      stderrTail: stderr.text(),
      durationMs: Date.now() - started,
    };
  }

  async close(): Promise<void> {}
}
