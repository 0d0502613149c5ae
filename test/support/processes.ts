import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

const running = new Set<ChildProcess>();
// Whatever happens to a test, no baton process it started outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A `baton` process run from the sources (through tsx), for tests that need several processes. */
export class BatonProcess {
  readonly child: ChildProcess;
  /** stdout and stderr as they came, interleaved. */
  output = '';
  stdout = '';
  stderr = '';

  /** Kills every baton process a test file started that still runs (for after hooks). */
  static async killAll(): Promise<void> {
    await Promise.all(
      [...running].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.child.once('exit', () => running.delete(this.child));
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      this.stderr += chunk.toString();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves once the output contains `text`. */
  async waitFor(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (Date.now() > deadline)
        throw new Error(`no '${text}' in output after ${timeoutMs} ms:\n${this.output}`);
      if (this.child.exitCode !== null)
        throw new Error(`exited ${this.child.exitCode} before '${text}':\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  exited(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
