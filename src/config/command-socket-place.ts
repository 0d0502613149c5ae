import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { embeddedDataDir } from './data-dir.js';
import type { Config } from './env.js';

// process.getuid, unlike os.userInfo, needs no entry in the password file (containers).
const ownUid = (): number => process.getuid?.() ?? 0;

type PlaceConfig = Pick<Config, 'REDIS_URL' | 'BATON_REDIS_PREFIX' | 'BATON_DATA_DIR'>;

/**
 * Where a process running rollouts answers the terminal's commands, and which state it answers
 * for. The embedded backend's socket is in its data directory, beside the lock. On Redis it is in
 * a directory of this user's own under the temporary directory, named after the Redis URL and key
 * prefix: a terminal finds a worker on this machine that uses the same Redis and prefix, and no
 * other (the hello names the same, and the terminal checks it).
 */
export interface CommandSocketPlace {
  dir: string;
  /** Said in the socket's hello. */
  backend: string;
  /** Whether `dir` must be one only this user can enter: the temporary directory is shared. */
  private: boolean;
}

export function commandSocketPlace(config: PlaceConfig): CommandSocketPlace {
  if (config.REDIS_URL === undefined)
    return { dir: embeddedDataDir(config), backend: 'embedded', private: false };
  // Hashed, so that a password in the URL is not written into a path.
  const digest = createHash('sha256')
    .update(`${config.REDIS_URL}\n${config.BATON_REDIS_PREFIX}`)
    .digest('hex')
    .slice(0, 16);
  return {
    dir: join(tmpdir(), `baton-${ownUid()}`, `redis-${digest}`),
    backend: `redis-${digest}`,
    private: true,
  };
}

/**
 * Why `dir` and the directory above it are not this user's alone (another user could then put a
 * socket there and be taken for a worker), or undefined when they are.
 */
export async function notPrivate(dir: string): Promise<string | undefined> {
  const above = dirname(dir);
  return (await unshared(dirname(above))) ?? (await ownAlone(above)) ?? ownAlone(dir);
}

/** Makes the place's directory (mode 0700) when it must be private; why not, if it cannot be. */
export async function preparePlace(place: CommandSocketPlace): Promise<string | undefined> {
  if (!place.private) return undefined;
  // One level at a time, each looked at before going into it: a directory above that someone
  // else made (or a link to one) is never entered, nor anything made in it.
  const above = dirname(place.dir);
  return (
    (await unshared(dirname(above))) ??
    (await made(above)) ??
    (await ownAlone(above)) ??
    (await made(place.dir)) ??
    notPrivate(place.dir)
  );
}

async function made(path: string): Promise<string | undefined> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      return `${path}: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Where the user's directory is made: others may write there (the temporary directory), but only
 * if it is sticky can none of them rename the user's directory away and put one of theirs
 * instead; and its owner could, unless that is this user or root.
 */
async function unshared(path: string): Promise<string | undefined> {
  const stats = await statOrWhy(stat, path);
  if (typeof stats === 'string') return stats;
  const { mode, uid } = stats;
  if (uid !== 0 && uid !== ownUid()) return `${path} belongs to user ${uid}`;
  if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0)
    return `${path} may be written by others and is not sticky (mode ${(mode & 0o7777).toString(8)})`;
  return undefined;
}

/** Why `path` is not a directory of this user's that nobody else may enter, if it is not. */
async function ownAlone(path: string): Promise<string | undefined> {
  const stats = await statOrWhy(lstat, path);
  if (typeof stats === 'string') return stats;
  const uid = ownUid();
  if (!stats.isDirectory()) return `${path} is not a directory`;
  if (stats.uid !== uid) return `${path} belongs to user ${stats.uid}, not ${uid}`;
  if ((stats.mode & 0o077) !== 0)
    return `${path} may be entered by others (mode ${(stats.mode & 0o777).toString(8)})`;
  return undefined;
}

/** The path's stats, or why there are none (ENOENT, say), for a refusal. */
async function statOrWhy(
  look: (path: string) => Promise<Stats>,
  path: string,
): Promise<Stats | string> {
  try {
    return await look(path);
  } catch (error) {
    return `${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
}
