import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds a data directory: enough to tell a live holder from one that died. */
export interface DirHolder {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken. */
  started: string | null;
  command: string;
  since: number;
}

export class DataDirBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: DirHolder,
  ) {
    super(
      `${dir} is in use by baton process ${holder.pid} on ${holder.host} (${holder.command}, since ${new Date(holder.since).toISOString()}). ` +
        'Only one baton process at a time can use the embedded backend: stop that one first, ' +
        'point BATON_DATA_DIR at another directory, or set REDIS_URL so that several processes share state.',
    );
    this.name = 'DataDirBusyError';
  }
}

function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(holder: DirHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot tell from here: assume it is
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return holder.started === null || startTicks(holder.pid) === holder.started;
}

function readHolder(path: string): DirHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DirHolder;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unreadable (a crash while writing it): nobody can be holding it through this file.
    return { pid: 0, host: hostname(), started: null, command: 'unknown', since: 0 };
  }
}

/**
 * Holds a data directory for this process alone. The lock is a file naming this process; a lock
 * left by a process that died (kill -9, power loss) is taken over at once, since its pid is gone
 * or now belongs to a process that started later.
 */
export class DataDirLock {
  private held = true;
  private readonly onExit = () => this.release();

  private constructor(
    readonly dir: string,
    private readonly path: string,
    private readonly me: DirHolder,
  ) {
    process.on('exit', this.onExit);
  }

  static acquire(dir: string, command: string): DataDirLock {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'baton.lock');
    const me: DirHolder = {
      pid: process.pid,
      host: hostname(),
      started: startTicks(process.pid),
      command,
      since: Date.now(),
    };
    for (let attempt = 0; attempt < 5; attempt += 1) {
      // Written whole under another name, then linked: the lock never exists half-written.
      const draft = `${path}.${process.pid}`;
      writeFileSync(draft, JSON.stringify(me));
      try {
        linkSync(draft, path);
        return new DataDirLock(dir, path, me);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        unlinkSync(draft);
      }
      const holder = readHolder(path);
      if (holder === undefined) continue;
      if (alive(holder)) throw new DataDirBusyError(dir, holder);
      // Moved aside rather than deleted: of two processes taking over at once, one rename wins.
      try {
        renameSync(path, `${path}.stale-${process.pid}`);
        unlinkSync(`${path}.stale-${process.pid}`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new Error(`could not lock ${dir}: its lock file keeps changing`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    const holder = readHolder(this.path);
    if (holder?.pid === this.me.pid && holder.since === this.me.since) unlinkSync(this.path);
  }
}
