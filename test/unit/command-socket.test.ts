import { lstat, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CommandSocketConnection,
  CommandSocketLostError,
} from '../../src/adapters/embedded/command-socket-client.js';
import {
  ALLOWED_CALLS,
  asCall,
  encodeFrame,
  FrameError,
  FrameReader,
  isAllowedCall,
  MAX_FRAME_BYTES,
} from '../../src/adapters/embedded/command-socket-protocol.js';
import {
  serveCommandSocket,
  type CommandSocketServer,
  type ServedPorts,
} from '../../src/adapters/embedded/command-socket-server.js';
import { DataDirLock } from '../../src/adapters/embedded/data-dir-lock.js';
import type { LockStore } from '../../src/app/store-ports.js';
import { baton } from '../support/cli.js';
import { InMemoryLockStore } from '../support/memory/memory-stores.js';
import { VirtualClock } from '../support/virtual-clock.js';

describe('command socket frames', () => {
  it('carries values as they are, undefined included, however the bytes arrive', () => {
    const values = [{ id: 1, ok: true, value: undefined }, { a: [1, undefined, 'x'] }, 'text'];
    const bytes = Buffer.concat(values.map((value) => encodeFrame(value)));
    const whole = new FrameReader().push(bytes);
    expect(whole).toEqual(values);
    expect(whole[0]).toHaveProperty('value', undefined);
    const reader = new FrameReader();
    const seen: unknown[] = [];
    for (let at = 0; at < bytes.length; at++) seen.push(...reader.push(bytes.subarray(at, at + 1)));
    expect(seen).toEqual(values);
  });

  it('refuses a frame longer than the bound before any of it arrives', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1);
    expect(() => new FrameReader().push(head)).toThrow(FrameError);
  });

  it('refuses a frame that does not decode', () => {
    const garbage = Buffer.from('not a serialized value at all');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(garbage.length);
    expect(() => new FrameReader().push(Buffer.concat([head, garbage]))).toThrow(FrameError);
  });

  it('takes a call only with an id, port and method names and a list of arguments', () => {
    expect(asCall({ id: 3, port: 'locks', method: 'get', args: [] })).toEqual({
      id: 3,
      port: 'locks',
      method: 'get',
      args: [],
    });
    for (const bad of [
      null,
      7,
      { port: 'locks', method: 'get', args: [] },
      { id: 1, port: 'locks', method: 'get' },
      { id: 1.5, port: 'l', method: 'm', args: [] },
      { id: 1, port: 2, method: 'm', args: [] },
    ])
      expect(typeof asCall(bad)).toBe('string');
  });
});

describe('what the command socket offers', () => {
  it("offers each port's own methods", () => {
    expect(isAllowedCall('locks', 'acquire')).toBe(true);
    expect(isAllowedCall('rollouts', 'read')).toBe(true);
    expect(isAllowedCall('queue', 'add')).toBe(true);
  });

  it.each([
    ['locks', 'constructor'],
    ['locks', '__proto__'],
    ['locks', 'toString'],
    ['locks', 'hasOwnProperty'],
    ['rollouts', 'states'],
    ['queue', 'work'],
    ['queue', 'close'],
    ['work', 'work'],
    ['__proto__', 'constructor'],
    ['constructor', 'name'],
    ['hasOwnProperty', 'call'],
  ])('does not offer %s.%s', (port, method) => {
    expect(isAllowedCall(port, method)).toBe(false);
  });

  it('lists no name an object has of its own', () => {
    for (const methods of Object.values(ALLOWED_CALLS))
      for (const method of methods) expect(method in Object.prototype).toBe(false);
  });
});

describe('the command socket server and client', () => {
  let dir: string;
  let warnings: string[];
  let locks: LockStore;
  let server: CommandSocketServer | undefined;
  const opened: CommandSocketConnection[] = [];
  const target = { service: 'parser', environment: 'production' };
  const holder = { token: 't', owner: 'U1', reason: 'r', since: 1 };

  async function serve(ports: Partial<ServedPorts> = {}): Promise<CommandSocketServer> {
    const served = await serveCommandSocket(dir, { locks, ...ports } as ServedPorts, {
      command: 'baton worker',
      warn: (message) => warnings.push(message),
    });
    if (served === undefined) throw new Error(`not served: ${warnings.join('; ')}`);
    server = served;
    return served;
  }

  async function connect(): Promise<CommandSocketConnection> {
    const connection = await CommandSocketConnection.connect(dir);
    if (connection === undefined) throw new Error('no answer on the socket');
    opened.push(connection);
    return connection;
  }

  /** A raw connection, to send what no client of baton's would. */
  function raw(): Promise<{ socket: Socket; closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(join(dir, 'baton.sock'), () =>
        resolve({ socket, closed: new Promise((done) => socket.once('close', () => done())) }),
      );
      socket.on('error', reject);
      socket.resume();
    });
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-socket-'));
    warnings = [];
    locks = new InMemoryLockStore(new VirtualClock());
  });
  afterEach(async () => {
    for (const connection of opened.splice(0)) await connection.close();
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('answers calls with what the store answers, and says who serves', async () => {
    await serve();
    const connection = await connect();
    expect(connection.server).toMatchObject({ pid: process.pid, command: 'baton worker' });
    const remote = connection.port<LockStore>('locks');
    expect(await remote.get(target)).toBeUndefined();
    expect(await remote.acquire(target, holder, 60_000)).toEqual({ ok: true });
    expect(await locks.get(target)).toEqual(holder);
  });

  it('is private to its owner, and gone once closed', async () => {
    const served = await serve();
    expect((await stat(served.path)).mode & 0o777).toBe(0o600);
    await served.close();
    server = undefined;
    await expect(lstat(served.path)).rejects.toThrow(/ENOENT/);
    expect(await CommandSocketConnection.connect(dir)).toBeUndefined();
  });

  it('answers a call while an earlier one on the same connection still waits', async () => {
    let release: (value: unknown[]) => void = () => {};
    const waiting = new Promise<unknown[]>((resolve) => (release = resolve));
    await serve({ rollouts: { read: () => waiting } });
    const connection = await connect();
    const read = connection.call('rollouts', 'read', ['r1', '0', 60_000]);
    expect(await connection.call('locks', 'get', [target])).toBeUndefined();
    release([{ cursor: '1' }]);
    expect(await read).toEqual([{ cursor: '1' }]);
  });

  it('passes a store error on with its name and message', async () => {
    await serve({
      history: {
        list: async () => {
          throw new TypeError('the history is unreadable');
        },
      },
    });
    const connection = await connect();
    const failed = connection.call('history', 'list', [target, 5]);
    await expect(failed).rejects.toThrow('the history is unreadable');
    await expect(failed).rejects.toHaveProperty('name', 'TypeError');
  });

  it('refuses a call it does not offer, and goes on serving that connection', async () => {
    await serve();
    const connection = await connect();
    for (const method of ['constructor', '__proto__', 'toString'])
      await expect(connection.call('locks', method, [])).rejects.toThrow(
        'is not a call the command socket offers',
      );
    await expect(connection.call('work' as never, 'work', ['x'])).rejects.toThrow('not a call');
    expect(warnings).toHaveLength(4);
    expect(await connection.call('locks', 'get', [target])).toBeUndefined();
  });

  it.each([
    ['garbage', Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('zzzzz')])],
    ['a frame over the bound', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['a value that is not a call', encodeFrame({ id: 'x', port: 'locks' })],
    ['an empty frame', Buffer.from([0, 0, 0, 0])],
    ['a call without a list of arguments', encodeFrame({ id: 1, port: 'locks', method: 'get' })],
  ])(
    'closes a connection that sends %s, with a warning, and serves the others',
    async (_, bytes) => {
      await serve();
      const standing = await connect();
      const { socket, closed } = await raw();
      socket.write(bytes);
      await closed;
      expect(warnings.join('\n')).toContain('closed a command socket connection that sent');
      expect(await standing.call('locks', 'get', [target])).toBeUndefined();
      expect(await (await connect()).call('locks', 'get', [target])).toBeUndefined();
    },
  );

  it('fails the calls waiting when the serving process goes away, without hanging', async () => {
    const never = new Promise<never>(() => {});
    const served = await serve({ rollouts: { read: () => never } });
    const connection = await connect();
    const read = connection
      .call('rollouts', 'read', ['r1', '0', 60_000])
      .catch((error: unknown) => error);
    await served.close();
    server = undefined;
    const lost = await read;
    expect(lost).toBeInstanceOf(CommandSocketLostError);
    expect((lost as Error).message).toContain(
      `lost baton process ${process.pid} (baton worker), which holds ${dir}`,
    );
    await expect(connection.call('locks', 'get', [target])).rejects.toThrow('run it again');
    expect(connection.isOpen()).toBe(false);
  });

  it('replaces a socket file a killed holder left, and a stale one answers nobody', async () => {
    // A socket bound and left behind, as by a holder killed with kill -9.
    const left = createServer();
    await new Promise<void>((resolve) => left.listen(join(dir, 'left.sock'), resolve));
    await rename(join(dir, 'left.sock'), join(dir, 'baton.sock'));
    await new Promise<void>((resolve) => left.close(() => resolve()));
    expect((await lstat(join(dir, 'baton.sock'))).isSocket()).toBe(true);
    expect(await CommandSocketConnection.connect(dir)).toBeUndefined();
    await serve();
    expect(await (await connect()).call('locks', 'get', [target])).toBeUndefined();
  });

  it('replaces any other file in its place', async () => {
    await writeFile(join(dir, 'baton.sock'), 'left over');
    expect(await CommandSocketConnection.connect(dir)).toBeUndefined();
    await serve();
    expect(await (await connect()).call('locks', 'get', [target])).toBeUndefined();
  });

  it('takes a listener that never says hello for no server', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(join(dir, 'baton.sock'), resolve));
    try {
      expect(await CommandSocketConnection.connect(dir, 100)).toBeUndefined();
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('takes a listener that speaks something else for no server', async () => {
    const other = createServer((socket) => socket.end(encodeFrame({ hello: { protocol: 9 } })));
    await new Promise<void>((resolve) => other.listen(join(dir, 'baton.sock'), resolve));
    try {
      expect(await CommandSocketConnection.connect(dir)).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('does not serve a data directory whose path does not fit a socket address', async () => {
    const deep = join(dir, 'x'.repeat(120));
    const served = await serveCommandSocket(deep, { locks } as unknown as ServedPorts, {
      command: 'baton worker',
      warn: (message) => warnings.push(message),
    });
    expect(served).toBeUndefined();
    expect(warnings.join('\n')).toContain('use a shorter BATON_DATA_DIR');
    expect(await CommandSocketConnection.connect(deep)).toBeUndefined();
  });

  it("answers with an error when a store's answer cannot be sent", async () => {
    await serve({ audit: { recent: async () => [() => 'a function'] } });
    const connection = await connect();
    await expect(connection.call('audit', 'recent', [5])).rejects.toThrow('could not be encoded');
  });
});

describe('a terminal command when the socket does not answer', () => {
  let base: string;
  const held: DataDirLock[] = [];
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'baton-socket-cli-'));
  });
  afterEach(async () => {
    for (const lock of held.splice(0)) lock.release();
    await rm(base, { recursive: true, force: true });
  });

  it('is refused as before while a live process holds the data but refuses connections (stopping)', async () => {
    const dir = join(base, 'db');
    held.push(DataDirLock.acquire(dir, 'baton worker'));
    // The socket of a holder that has stopped listening but not yet let go of the data.
    const stopping = createServer();
    await new Promise<void>((resolve) => stopping.listen(join(dir, 'baton.sock'), resolve));
    await rename(join(dir, 'baton.sock'), join(dir, 'kept.sock'));
    await new Promise<void>((resolve) => stopping.close(() => resolve()));
    await rename(join(dir, 'kept.sock'), join(dir, 'baton.sock'));
    const status = await baton(['status'], { BATON_DATA_DIR: base, BATON_PLAYBOOKS: base });
    expect(status.status).toBe(6);
    expect(status.stderr).toContain(`is in use by baton process ${process.pid}`);
    expect(status.stderr).toContain('(baton worker');
  });
});
