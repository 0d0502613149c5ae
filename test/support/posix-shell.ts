import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { shellQuote } from '../../src/core/shell.js';

/**
 * A real POSIX shell (`/bin/sh`) kept running, that runs one command at a time and hands back
 * what it printed. Each command runs the way a host's `sh -c` runs it (the command travels
 * shell-quoted, as baton sends it over SSH, and `eval` reads it), in a subshell with no input, so
 * a command that broke out of its quoting cannot change the shell the next one runs in.
 */
export class PosixShell {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = Buffer.alloc(0);
  /** Commands written and not yet done, oldest first: their output comes back in this order. */
  private readonly pending: { marker: Buffer; resolve: (printed: string) => void }[] = [];
  private exited: Error | undefined;

  constructor(path = '/bin/sh') {
    this.child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.output = Buffer.concat([this.output, chunk]);
      this.deliver();
    });
    this.child.stderr.resume();
    this.child.once('exit', (code, signal) => {
      this.exited = new Error(`${path} exited (${code ?? signal}) while commands were waiting`);
      for (const waiting of this.pending.splice(0)) waiting.resolve(`[${this.exited.message}]`);
    });
  }

  /**
   * Everything `command` wrote to stdout, as text. Commands may be given before the last one is
   * done: the shell runs them in turn.
   */
  printed(command: string): Promise<string> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    // A marker the command cannot know, printed once it is done.
    const marker = randomBytes(16).toString('hex');
    return new Promise((resolve) => {
      this.pending.push({ marker: Buffer.from(`\n${marker}\n`), resolve });
      this.child.stdin.write(
        `(eval ${shellQuote(command)}) </dev/null 2>/dev/null; printf '\\n%s\\n' ${marker}\n`,
      );
    });
  }

  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }

  private deliver(): void {
    for (;;) {
      const waiting = this.pending[0];
      if (waiting === undefined) return;
      const end = this.output.indexOf(waiting.marker);
      if (end === -1) return;
      const printed = this.output.subarray(0, end).toString('utf8');
      this.output = this.output.subarray(end + waiting.marker.length);
      this.pending.shift();
      waiting.resolve(printed);
    }
  }
}

/** What `printf '%s\0' word...` prints for these words. */
export function nulTerminated(words: readonly string[]): string {
  return words.map((word) => `${word}\0`).join('');
}
