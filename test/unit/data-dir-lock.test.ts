import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    expect((refused as DataDirBusyError).holder.pid).toBe(process.pid);
  });

  it('frees the directory on release, and only its own lock', async () => {
    const first = take();
    first.release();
    expect(existsSync(lockFile())).toBe(false);
    const second = take();
    first.release();
    expect(existsSync(lockFile())).toBe(true);
    second.release();
    expect(existsSync(lockFile())).toBe(false);
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
});
