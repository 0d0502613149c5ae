import { spawn } from 'node:child_process';
import { childEnvironment } from '../child-environment.js';
import type { InventoryRun, InventorySource } from '../../app/inventory-ports.js';
import { scrub } from '../log/redact.js';
import { OutputTail } from '../ssh/output-tail.js';

/** A listing longer than this is not a list of hosts (10 000 hosts of 100 bytes fit). */
const MAX_STDOUT = 1024 * 1024;
/** What a failure shows of the command's own words. */
const SHOWN = 2000;

/**
 * Runs an inventory command with `sh -c` in baton's working directory, with baton's environment
 * (a cloud CLI finds its credentials there) less baton's own credentials, and kills its whole
 * process group at the timeout.
 */
export class CommandInventory implements InventorySource {
  constructor(private readonly cwd?: string) {}

  list(command: string, options: { timeoutMs: number }): Promise<InventoryRun> {
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', command], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        ...(this.cwd === undefined ? {} : { cwd: this.cwd }),
        env: childEnvironment(),
      });
      const stdout: Buffer[] = [];
      let size = 0;
      let overflow = false;
      const stderr = new OutputTail(SHOWN);
      const stdoutTail = new OutputTail(SHOWN);
      let timedOut = false;
      const kill = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      };
      // A process that left the group (setsid, a daemon) may hold the pipes open past the kill:
      // stop reading too, so the plan waits no longer than the timeout says.
      const stop = () => {
        kill();
        child.stdout.destroy();
        child.stderr.destroy();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutTail.push(chunk);
        size += chunk.length;
        if (size > MAX_STDOUT) {
          overflow = true;
          stop();
        } else stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      let settled = false;
      const done = (run: InventoryRun) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(run);
      };
      child.on('error', (error) =>
        done({ ok: false, reason: 'failed', exitCode: null, output: scrub(error.message) }),
      );
      child.on('close', (code) => {
        const said = scrub(stderr.text().trim() || stdoutTail.text().trim());
        if (timedOut) done({ ok: false, reason: 'timed_out', exitCode: null, output: said });
        else if (overflow)
          done({ ok: false, reason: 'too_much_output', exitCode: null, output: '' });
        else if (code !== 0) done({ ok: false, reason: 'failed', exitCode: code, output: said });
        else done({ ok: true, stdout: Buffer.concat(stdout).toString('utf8') });
      });
    });
  }
}
