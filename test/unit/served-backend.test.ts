import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import {
  CommandSocketConnection,
  CommandSocketLostError,
  HELLO_MS,
} from '../../src/adapters/embedded/command-socket-client.js';
import type { CommandSocketServer } from '../../src/adapters/embedded/command-socket-server.js';
import { releasable, type LockHolder, type LockStore } from '../../src/app/store-ports.js';
import { servedBackend, serveTerminalCommands } from '../../src/cli/served-backend.js';
import { commandSocketPlace } from '../../src/config/command-socket-place.js';
import type { Backend } from '../../src/main.js';
import { InMemoryLockStore, InMemoryRolloutStore } from '../support/memory/memory-stores.js';
import { until } from '../support/until.js';

// A terminal command on Redis through a worker's socket, and on Redis itself (here: stores of
// its own) once that worker is gone: what is asked again there, and what is not.
const config = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  BATON_REDIS_PREFIX: 'served-test',
  BATON_DATA_DIR: '.data',
};
const target = { service: 'web', environment: 'prod' };
const holder = (owner: string): LockHolder => ({ token: owner, owner, reason: '', since: 0 });

/** Blocking readers made and let go of by the backends below. */
const readers = { made: 0, released: 0 };

function backendOf(locks: LockStore, rollouts = new InMemoryRolloutStore()): Backend {
  return {
    description: 'memory',
    locks,
    rollouts,
    blocking: () => {
      readers.made += 1;
      return releasable(rollouts, () => (readers.released += 1));
    },
    close: async () => {},
  } as unknown as Backend;
}

let temp: string;
let server: CommandSocketServer | undefined;
let served: Backend | undefined;
const savedTmpdir = process.env.TMPDIR;
beforeEach(async () => {
  readers.made = 0;
  readers.released = 0;
  temp = await mkdtemp(join(tmpdir(), 'baton-served-'));
  process.env.TMPDIR = temp;
});
afterEach(async () => {
  await served?.close();
  served = undefined;
  await server?.close();
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  await rm(temp, { recursive: true, force: true });
});

/** The worker's side, serving `worker`; the terminal's, opening `direct` once told to. */
async function setUp(worker: Backend, direct: Backend, silentMs?: number) {
  server = await serveTerminalCommands(config, worker, 'baton worker', (message) => {
    throw new Error(`unexpected warning: ${message}`);
  });
  const told: string[] = [];
  let opened = 0;
  served = await servedBackend(
    config,
    async () => {
      opened += 1;
      return direct;
    },
    (message) => told.push(message),
    silentMs,
  );
  if (served === undefined) throw new Error('not served');
  return { served, told, opened: () => opened };
}

describe('a terminal command on Redis through a worker', () => {
  it("reaches the worker's stores, and Redis itself only after the worker is gone", async () => {
    const workerLocks = new InMemoryLockStore(systemClock);
    const directLocks = new InMemoryLockStore(systemClock);
    await directLocks.acquire(target, holder('seen directly'), 60_000);
    const { served, told, opened } = await setUp(backendOf(workerLocks), backendOf(directLocks));

    expect(await served.locks.acquire(target, holder('terminal'), 60_000)).toEqual({ ok: true });
    expect((await workerLocks.get(target))?.owner).toBe('terminal');
    expect(opened()).toBe(0);

    await server?.close();
    server = undefined;
    await until(async () => (await served.readiness.check()) !== true);
    // A write made once the loss is known was never sent: it goes to Redis.
    expect(await served.locks.release(target, 'seen directly')).toBe(true);
    expect(await directLocks.get(target)).toBeUndefined();
    await directLocks.acquire(target, holder('seen directly'), 60_000);
    expect((await served.locks.get(target))?.owner).toBe('seen directly');
    expect(told).toEqual([
      `baton process ${process.pid} (baton worker), which answered this command, stopped answering; going on with Redis directly.`,
    ]);
    expect(opened()).toBe(1);
  });

  it('asks a read in flight again of Redis, but not a write, which may have been done', async () => {
    // The worker answers neither call until it is gone.
    const hanging = new InMemoryLockStore(systemClock);
    const never = () => new Promise<never>(() => {});
    const workerLocks = Object.assign(Object.create(hanging) as LockStore, {
      acquire: never,
      get: never,
    });
    const directLocks = new InMemoryLockStore(systemClock);
    await directLocks.acquire(target, holder('seen directly'), 60_000);
    const { served } = await setUp(backendOf(workerLocks), backendOf(directLocks));

    const write = served.locks.acquire(target, holder('terminal'), 60_000);
    const read = served.locks.get(target);
    const written = write.then(
      () => undefined,
      (error: unknown) => error,
    );
    await server?.close();
    server = undefined;
    expect(await written).toBeInstanceOf(CommandSocketLostError);
    expect(String(await written)).toContain('may or may not be done');
    expect((await read)?.owner).toBe('seen directly');
    expect((await directLocks.get(target))?.owner).toBe('seen directly');
  });

  it('is not answered by a worker on other state', async () => {
    server = await serveTerminalCommands(
      config,
      backendOf(new InMemoryLockStore(systemClock)),
      'baton worker',
      () => {},
    );
    const dir = commandSocketPlace(config).dir;
    expect(await CommandSocketConnection.connect(dir, HELLO_MS, 'redis-0000000000000000')).toBe(
      undefined,
    );
    const right = await CommandSocketConnection.connect(
      dir,
      HELLO_MS,
      commandSocketPlace(config).backend,
    );
    expect(right?.server.backend).toBe(commandSocketPlace(config).backend);
    await right?.close();
  });

  it('takes a worker that does not answer in time for gone: a read goes to Redis, a write fails', async () => {
    const never = () => new Promise<never>(() => {});
    const workerLocks = Object.assign(
      Object.create(new InMemoryLockStore(systemClock)) as LockStore,
      {
        acquire: never,
        get: never,
      },
    );
    const directLocks = new InMemoryLockStore(systemClock);
    await directLocks.acquire(target, holder('seen directly'), 60_000);
    const { served, told } = await setUp(backendOf(workerLocks), backendOf(directLocks), 100);
    const written = served.locks.acquire(target, holder('terminal'), 60_000).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((await served.locks.get(target))?.owner).toBe('seen directly');
    expect(String(await written)).toContain('no answer within 100 ms');
    expect(await written).toBeInstanceOf(CommandSocketLostError);
    expect(told).toHaveLength(1);
  });

  it('goes to Redis for a call the worker refuses to make (one it does not offer)', async () => {
    const refusing = Object.assign(Object.create(new InMemoryLockStore(systemClock)) as LockStore, {
      get: () =>
        Promise.reject(Object.assign(new Error('not offered'), { name: 'CommandSocketRefusal' })),
    });
    const directLocks = new InMemoryLockStore(systemClock);
    await directLocks.acquire(target, holder('seen directly'), 60_000);
    const { served, told } = await setUp(backendOf(refusing), backendOf(directLocks));
    expect((await served.locks.get(target))?.owner).toBe('seen directly');
    expect(told).toEqual([
      `baton process ${process.pid} (baton worker), which answered this command, does not offer locks.get; going on with Redis directly.`,
    ]);
  });

  it('asks nothing more of anyone when it closes with a call on its way', async () => {
    const never = () => new Promise<never>(() => {});
    const workerLocks = Object.assign(
      Object.create(new InMemoryLockStore(systemClock)) as LockStore,
      {
        get: never,
      },
    );
    const { served, told, opened } = await setUp(
      backendOf(workerLocks),
      backendOf(new InMemoryLockStore(systemClock)),
    );
    // Its failure is taken as it comes (during the close), not left unhandled until then.
    const read = served.locks.get(target).then(
      () => undefined,
      (error: unknown) => error,
    );
    await served.close();
    expect(String(await read)).toContain('this command closed the connection');
    expect(opened()).toBe(0);
    expect(told).toEqual([]);
  });

  it('asks nothing more of anyone once closed', async () => {
    const workerLocks = new InMemoryLockStore(systemClock);
    const { served, told, opened } = await setUp(
      backendOf(workerLocks),
      backendOf(new InMemoryLockStore(systemClock)),
    );
    await served.close();
    await expect(served.locks.get(target)).rejects.toThrow('after this command closed');
    await expect(served.locks.acquire(target, holder('late'), 60_000)).rejects.toThrow(
      'after this command closed',
    );
    expect(await workerLocks.get(target)).toBeUndefined();
    expect(opened()).toBe(0);
    expect(told).toEqual([]);
  });

  it("gives each following connection a blocking reader of the worker's, let go when it closes", async () => {
    const rollouts = new InMemoryRolloutStore();
    await rollouts.append('r1', { kind: 'finished', status: 'succeeded', at: 1, worker: 'w' });
    const { served } = await setUp(
      backendOf(new InMemoryLockStore(systemClock), rollouts),
      backendOf(new InMemoryLockStore(systemClock)),
    );
    // A read that does not wait takes no reader; one that may wait takes one, once.
    await served.rollouts.read('r1', '0', 0);
    expect(readers.made).toBe(0);
    const reader = served.blocking();
    expect(await reader.read('r1', '0', 50)).toHaveLength(1);
    expect(await reader.read('r1', '0', 50)).toHaveLength(1);
    expect(readers).toEqual({ made: 1, released: 0 });
    await served.close();
    await until(() => readers.released === 1);
    expect(readers.made).toBe(1);
  });
});

describe('a terminal command through the process holding the embedded database', () => {
  it('ends, saying so, when the holder leaves a call unanswered: there is nothing to go on with', async () => {
    const embedded = { BATON_DATA_DIR: join(temp, 'data'), BATON_REDIS_PREFIX: 'baton' };
    await mkdir(join(temp, 'data', 'db'), { recursive: true });
    const never = () => new Promise<never>(() => {});
    const holderLocks = Object.assign(
      Object.create(new InMemoryLockStore(systemClock)) as LockStore,
      { get: never },
    );
    server = await serveTerminalCommands(embedded, backendOf(holderLocks), 'baton start', () => {});
    let opened = 0;
    served = await servedBackend(
      embedded,
      async () => {
        opened += 1;
        return backendOf(new InMemoryLockStore(systemClock));
      },
      () => {},
      100,
    );
    const read = served?.locks.get(target).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(await read).toBeInstanceOf(CommandSocketLostError);
    expect(String(await read)).toContain('no answer within 100 ms during locks.get');
    expect(opened).toBe(0);
  });
});
