import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DataDirBusyError, DataDirLock } from '../../src/adapters/embedded/data-dir-lock.js';

let dir: string;
const held: DataDirLock[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-lock-'));
});
afterEach(async () => {
  for (const lock of held.splice(0)) lock.release();
  await rm(dir, { recursive: true, force: true });
});

function take(command = 'test'): DataDirLock {
  const lock = DataDirLock.acquire(dir, command);
  held.push(lock);
  return lock;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

const lockFile = () => join(dir, 'baton.lock');

const contenderScript = fileURLToPath(new URL('../support/lock-contender.ts', import.meta.url));

/** Another process that tries for the directory when told to, and answers how it went. */
class Contender {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly answers: string[] = [];
  private waiting: { resolve(line: string): void; reject(error: Error): void } | undefined;

  constructor(directory: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', contenderScript, directory], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting === undefined) this.answers.push(line);
      else waiting.resolve(line);
    });
    this.child.once('exit', (code) => this.waiting?.reject(new Error(`contender exited ${code}`)));
  }

  tell(command: 'try' | 'release'): void {
    this.child.stdin.write(`${command}\n`);
  }

  answer(): Promise<string> {
    const line = this.answers.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

describe('DataDirLock', () => {
  it('refuses the directory to a second holder while the first lives, naming it', () => {
    take('baton worker');
    let refused: unknown;
    try {
      DataDirLock.acquire(dir, 'baton status');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DataDirBusyError);
    expect((refused as Error).message).toContain(
      `is in use by baton process ${process.pid} on ${hostname()} (baton worker`,
    );
    expect((refused as DataDirBusyError).holder?.pid).toBe(process.pid);
  });

  it('frees the directory on release, and only its own lock', () => {
    const first = take();
    first.release();
    const second = take();
    first.release();
    expect(() => take()).toThrow(DataDirBusyError);
    second.release();
    expect(() => take()).not.toThrow();
  });

  it('takes over a lock left by a process that died (kill -9 leaves the file behind)', async () => {
    const pid = deadPid();
    await writeFile(
      lockFile(),
      JSON.stringify({ pid, host: hostname(), started: null, command: 'old', since: 1 }),
    );
    take('new');
    expect(JSON.parse(await readFile(lockFile(), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'new',
    });
  });

  it('takes over a lock whose pid now belongs to a process that started later', async () => {
    await writeFile(
      lockFile(),
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        started: '1',
        command: 'old',
        since: 1,
      }),
    );
    take();
    expect(JSON.parse(await readFile(lockFile(), 'utf8'))).toMatchObject({ command: 'test' });
  });

  it('takes over a lock file that is not readable as one', async () => {
    await writeFile(lockFile(), 'garbage');
    take();
    expect(JSON.parse(await readFile(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('leaves a lock from another machine alone: it cannot tell whether that holder lives', async () => {
    await writeFile(
      lockFile(),
      JSON.stringify({ pid: 1, host: 'elsewhere', started: null, command: 'x', since: 1 }),
    );
    expect(() => take()).toThrow(DataDirBusyError);
  });

  it('has one holder, never two, when eight processes take over a stale lock at once (50 rounds)', async () => {
    const contenders = Array.from({ length: 8 }, () => new Contender(dir));
    try {
      expect(await Promise.all(contenders.map((contender) => contender.answer()))).toEqual(
        Array(8).fill('ready'),
      );
      const stale = JSON.stringify({
        pid: deadPid(),
        host: hostname(),
        started: null,
        command: 'x',
        since: 1,
      });
      const rounds: string[][] = [];
      for (let round = 0; round < 50; round += 1) {
        await writeFile(lockFile(), stale);
        for (const contender of contenders) contender.tell('try');
        const answers = await Promise.all(contenders.map((contender) => contender.answer()));
        rounds.push(answers);
        const holders = contenders.filter((_, index) => answers[index] === 'held');
        for (const holder of holders) holder.tell('release');
        await Promise.all(holders.map((holder) => holder.answer()));
      }
      const tally = rounds.map((answers) => ({
        held: answers.filter((answer) => answer === 'held').length,
        busy: answers.filter((answer) => answer === 'busy').length,
      }));
      expect(tally).toEqual(Array(50).fill({ held: 1, busy: 7 }));
    } finally {
      for (const contender of contenders) contender.stop();
    }
  });
});

describe('a holder whose directory goes away under it', () => {
  it('knows its lock file is no longer the one it locked once removed, or replaced by another', async () => {
    const lock = take();
    expect(lock.stillHeld()).toBe(true);
    await rm(lockFile());
    expect(lock.stillHeld()).toBe(false);
    // The next baton makes a new file there and takes it: still not this holder's.
    const next = take('next');
    expect(next.stillHeld()).toBe(true);
    expect(lock.stillHeld()).toBe(false);
  });

  it('is told once, with why, at its next look after the whole directory is removed', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const lock = take();
      const reasons: string[] = [];
      lock.watch((why) => reasons.push(why), 1000);
      vi.advanceTimersByTime(3000);
      expect(reasons).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
      vi.advanceTimersByTime(1000);
      expect(reasons).toEqual([expect.stringContaining(`${dir} was removed or replaced`)]);
      vi.advanceTimersByTime(5000);
      expect(reasons).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is not told once it has released the directory itself', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const lock = take();
      let told = false;
      lock.watch(() => (told = true), 1000);
      lock.release();
      rmSync(lockFile());
      vi.advanceTimersByTime(5000);
      expect(told).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
