import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  commandSocketPlace,
  notPrivate,
  preparePlace,
} from '../../src/config/command-socket-place.js';

const redis = (url: string, prefix = 'baton') => ({
  REDIS_URL: url,
  BATON_REDIS_PREFIX: prefix,
  BATON_DATA_DIR: '.data',
});

let temp: string;
const savedTmpdir = process.env.TMPDIR;
beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'baton-place-'));
  process.env.TMPDIR = temp;
});
afterEach(async () => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  await rm(temp, { recursive: true, force: true });
});

describe('where a command socket is', () => {
  it('is the data directory on the embedded backend, which need not be private', () => {
    const place = commandSocketPlace({ BATON_DATA_DIR: '/srv/baton', BATON_REDIS_PREFIX: 'baton' });
    expect(place).toEqual({ dir: '/srv/baton/db', backend: 'embedded', private: false });
  });

  it('is one per Redis URL and prefix, under a directory of this user in TMPDIR', () => {
    const place = commandSocketPlace(redis('redis://:s3cret@127.0.0.1:6379'));
    expect(place.private).toBe(true);
    expect(place.dir).toBe(join(temp, `baton-${process.getuid?.()}`, place.backend));
    expect(place.backend).toMatch(/^redis-[0-9a-f]{16}$/);
    expect(place.dir).not.toContain('s3cret');
    const others = [
      redis('redis://:s3cret@127.0.0.1:6379', 'other'),
      redis('redis://:s3cret@127.0.0.1:6380'),
      redis('redis://:other@127.0.0.1:6379'),
    ].map((config) => commandSocketPlace(config).backend);
    expect(new Set([place.backend, ...others]).size).toBe(4);
    expect(commandSocketPlace(redis('redis://:s3cret@127.0.0.1:6379')).backend).toBe(place.backend);
  });
});

describe('a private place', () => {
  it('is made with mode 0700, itself and the directory above it', async () => {
    const place = commandSocketPlace(redis('redis://127.0.0.1:6379'));
    expect(await preparePlace(place)).toBeUndefined();
    expect((await stat(place.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(place.dir, '..'))).mode & 0o777).toBe(0o700);
    expect(await notPrivate(place.dir)).toBeUndefined();
  });

  it('is refused when others may enter it or the directory above it', async () => {
    const place = commandSocketPlace(redis('redis://127.0.0.1:6379'));
    await preparePlace(place);
    await chmod(join(place.dir, '..'), 0o755);
    expect(await notPrivate(place.dir)).toMatch(/may be entered by others \(mode 755\)$/);
    expect(await preparePlace(place)).toMatch(/may be entered by others/);
    await chmod(join(place.dir, '..'), 0o700);
    await chmod(place.dir, 0o777);
    expect(await notPrivate(place.dir)).toMatch(/mode 777/);
  });

  it('is refused when it is a symbolic link, or missing', async () => {
    const place = commandSocketPlace(redis('redis://127.0.0.1:6379'));
    expect(await notPrivate(place.dir)).toMatch(/ENOENT$/);
    const elsewhere = join(temp, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await symlink(elsewhere, join(place.dir, '..'));
    await mkdir(place.dir, { mode: 0o700 });
    expect(await notPrivate(place.dir)).toMatch(/is not a directory$/);
  });

  it('is not made through a link someone put where its directory goes', async () => {
    const place = commandSocketPlace(redis('redis://127.0.0.1:6379'));
    const elsewhere = join(temp, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await symlink(elsewhere, join(place.dir, '..'));
    expect(await preparePlace(place)).toMatch(/is not a directory$/);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('is refused in a temporary directory others may write to that is not sticky', async () => {
    const place = commandSocketPlace(redis('redis://127.0.0.1:6379'));
    await chmod(temp, 0o777);
    expect(await preparePlace(place)).toMatch(/may be written by others and is not sticky/);
    await chmod(temp, 0o1777);
    expect(await preparePlace(place)).toBeUndefined();
    await chmod(temp, 0o777);
    expect(await notPrivate(place.dir)).toMatch(/is not sticky \(mode 777\)$/);
    await chmod(temp, 0o770);
    expect(await notPrivate(place.dir)).toMatch(/is not sticky \(mode 770\)$/);
  });
});
