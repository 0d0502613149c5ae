import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tryLock } from 'fs-native-extensions';
import { DataDirBusyError } from './data-dir-busy.js';

export { DataDirBusyError };

const LOCK_FILE = 'baton.lock';
/** How often a holder looks whether its directory is still there: a few seconds' window at most. */
const LOST_CHECK_MS = 2000;

/** Errors that say a file is not there any more (ESTALE: removed on an NFS server). */
function gone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ESTALE';
}

/** Who holds a data directory: enough to tell a live holder from one that died. */
export interface DirHolder {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken. */
  started: string | null;
  command: string;
  since: number;
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

/** The holder the lock file names, if it names one (it is empty once released). */
function namedHolder(path: string): DirHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as DirHolder;
    return typeof holder === 'object' && holder !== null ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Holds a data directory for this process alone, with a lock the kernel keeps on the lock file
 * (an open-file-description lock, released when the process ends however it ends): of any number
 * of processes trying at once, exactly one gets it, and a lock left by a process that died
 * (kill -9, power loss) is free at once. The file names the holder, for the refusals.
 */
export class DataDirLock {
  private held = true;
  private readonly onExit = () => this.release();
  private watcher: NodeJS.Timeout | undefined;

  private constructor(
    readonly dir: string,
    private readonly fd: number,
  ) {
    process.on('exit', this.onExit);
  }

  private get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  /**
   * Whether the lock file is still the one this process locked. Once the directory is removed or
   * replaced (`rm -rf .data` to start afresh, say), the next baton locks a new file there and
   * takes its database for its own, while this process would go on writing to files nobody sees.
   */
  stillHeld(): boolean {
    if (!this.held) return false;
    let mine: Stats | undefined;
    try {
      mine = fstatSync(this.fd);
    } catch (error) {
      // On NFS a file removed by another client gives ESTALE; anything else cannot tell.
      if (gone(error)) return false;
    }
    if (mine?.nlink === 0) return false;
    try {
      // The inode only: overlay file systems can give a file's path and its descriptor other devices.
      const there = statSync(this.path);
      return mine === undefined || there.ino === mine.ino;
    } catch (error) {
      // Only "not there" is a loss; a file system failing to answer (EIO, say) is not.
      return !gone(error);
    }
  }

  /** Calls `lost` once, within `everyMs`, if the lock file stops being this process's. */
  watch(lost: (why: string) => void, everyMs = LOST_CHECK_MS): void {
    clearInterval(this.watcher);
    this.watcher = setInterval(() => {
      if (this.stillHeld()) return;
      clearInterval(this.watcher);
      lost(
        `the data directory ${this.dir} was removed or replaced while this process held it: what it stores from now on would be lost, and another baton could take the directory for its own`,
      );
    }, everyMs);
    this.watcher.unref();
  }

  static acquire(dir: string, command: string): DataDirLock {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    // Never deleted: a process that opened it before the deletion would lock a file nobody sees.
    const fd = openSync(path, 'a+');
    try {
      if (!tryLock(fd)) throw new DataDirBusyError(dir, namedHolder(path));
      // On a network file system the kernel's lock may not reach the other machine, and an older
      // baton held the directory by the file alone: a live holder the file names keeps it.
      const named = namedHolder(path);
      if (named !== undefined && alive(named)) throw new DataDirBusyError(dir, named);
      const me: DirHolder = {
        pid: process.pid,
        host: hostname(),
        started: startTicks(process.pid),
        command,
        since: Date.now(),
      };
      ftruncateSync(fd, 0);
      writeSync(fd, JSON.stringify(me));
      return new DataDirLock(dir, fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    clearInterval(this.watcher);
    process.off('exit', this.onExit);
    ftruncateSync(this.fd, 0);
    // Closing the only descriptor of the open file releases the kernel's lock.
    closeSync(this.fd);
  }
}
