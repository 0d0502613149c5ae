import { lstat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandSocketConnection } from '../../src/adapters/embedded/command-socket-client.js';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { baton } from '../support/cli.js';
import { BatonProcess } from '../support/processes.js';
import { printedEvents } from '../support/json-events.js';

// No REDIS_URL: a `baton worker` holds the embedded database, and terminal commands reach it
// through the socket beside its lock.
let fleet: Fleet;
const now = () => Date.now();
const dataDir = () => join(fleet.env().BATON_DATA_DIR ?? '', 'db');
const socketPath = () => join(dataDir(), 'baton.sock');

function start(args: string[]): BatonProcess {
  return new BatonProcess(args, fleet.env());
}

async function worker(): Promise<BatonProcess> {
  const running = start(['worker', '--grace', '20s']);
  // The first creates the database: seconds, more on a busy machine.
  await running.waitFor('terminal commands on it are answered on', 60_000);
  return running;
}

async function stop(child: BatonProcess): Promise<void> {
  child.kill('SIGTERM');
  expect(await child.exited()).toBe(0);
}

async function versions(): Promise<string[]> {
  return Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
}

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 4, subnet: 157, spinupMs: 200 });
  await fleet.writePlaybook({ groups: [{ hosts: [0, 1] }, { hosts: [2, 3] }] });
});
afterEach(() => BatonProcess.killAll());
afterAll(async () => {
  await BatonProcess.killAll();
  await fleet?.stop();
});

describe('terminal commands while a baton worker holds the embedded database', () => {
  it('answers status, lock, unlock and history through the worker, which sees what they did', async () => {
    const running = await worker();
    const locked = await baton(['lock', 'fleet', '--env', 'test', 'maintenance'], fleet.env(), now);
    expect(locked.stderr).toBe('');
    expect(locked.status).toBe(0);
    const status = await baton(['status', 'fleet'], fleet.env(), now);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/fleet test: .*LOCKED by terminal:.*maintenance/);
    // The worker holds the lock the terminal took: a deploy is refused by it.
    const refused = await baton(
      ['deploy', 'fleet', 'v2', '--env', 'test', '--yes'],
      fleet.env(),
      now,
    );
    expect(refused.status).toBe(6);
    expect(refused.stderr).toContain('maintenance');
    const unlocked = await baton(['unlock', 'fleet', '--env', 'test'], fleet.env(), now);
    expect(unlocked.status).toBe(0);
    expect(unlocked.stdout).toContain('Unlocked fleet');
    const history = await baton(['history', 'fleet', '--env', 'test'], fleet.env(), now);
    expect(history.status).toBe(0);
    await stop(running);
    // Opened here, once the worker has stopped: the same state.
    const after = await baton(['status', 'fleet'], fleet.env(), now);
    expect(after.stdout).not.toContain('LOCKED');
    const audit = await baton(['history', 'fleet', '--env', 'test'], fleet.env(), now);
    expect(audit.status).toBe(0);
  });

  it("has a deploy run by the worker, followed in the terminal to the end with the rollout's exit status", async () => {
    const running = await worker();
    const deploy = start([
      'deploy',
      'fleet',
      'v2',
      '--env',
      'test',
      '--previous',
      'v1',
      '--yes',
      '--json',
    ]);
    expect(await deploy.exited()).toBe(0);
    const seen = printedEvents(deploy.stdout);
    expect(seen.at(-1)?.type).toBe('rollout.completed');
    // Every step was taken by the worker's process, none by the terminal's.
    expect(new Set(seen.map((event) => event.worker))).toEqual(
      new Set([`${hostname()}:${running.pid}`]),
    );
    await running.waitFor('(deploy fleet v2 to test) ended: succeeded');
    expect(await versions()).toEqual(Array(4).fill('200 ok v2'));

    await fleet.behave('v3', 'never-healthy');
    const bad = start(['deploy', 'fleet', 'v3', '--env', 'test', '--yes', '--json']);
    expect(await bad.exited()).toBe(3);
    await running.waitFor('(deploy fleet v3 to test) ended: rolled_back');
    expect(await versions()).toEqual(Array(4).fill('200 ok v2'));
    await stop(running);
  });

  it('refuses garbage and calls it does not offer, and goes on serving', async () => {
    const running = await worker();
    await new Promise<void>((resolve, reject) => {
      const socket = createConnection(socketPath(), () => socket.write('GET / HTTP/1.1\r\n\r\n'));
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
    await running.waitFor('closed a command socket connection that sent a frame of');
    const connection = await CommandSocketConnection.connect(dataDir());
    expect(connection).toBeDefined();
    await expect(connection?.call('locks', 'constructor', [])).rejects.toThrow(
      'locks.constructor is not a call the command socket offers',
    );
    await expect(connection?.call('queue', 'close', [])).rejects.toThrow('not a call');
    await connection?.close();
    await running.waitFor('refused a command socket call of queue.close');
    expect((await baton(['status', 'fleet'], fleet.env(), now)).status).toBe(0);
    await stop(running);
  });
});

describe('when no worker answers on the socket', () => {
  it('opens the database itself past a socket file left by a worker killed with kill -9', async () => {
    const running = await worker();
    running.kill('SIGKILL');
    await running.exited();
    expect((await lstat(socketPath())).isSocket()).toBe(true);
    const status = await baton(['status', 'fleet'], fleet.env(), now);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    // The next worker takes the socket's name over.
    const next = await worker();
    expect((await baton(['status', 'fleet'], fleet.env(), now)).status).toBe(0);
    await stop(next);
    await expect(lstat(socketPath())).rejects.toThrow(/ENOENT/);
  });

  it('refuses, as before, while a live holder does not answer (a stopped process)', async () => {
    const running = await worker();
    running.kill('SIGSTOP');
    try {
      const status = await baton(['status', 'fleet'], fleet.env(), now);
      expect(status.status).toBe(6);
      expect(status.stderr).toContain(`is in use by baton process ${running.pid}`);
    } finally {
      running.kill('SIGCONT');
    }
    expect((await baton(['status', 'fleet'], fleet.env(), now)).status).toBe(0);
    await stop(running);
  });

  it('fails a following deploy, saying so, when the worker running it is killed', async () => {
    const running = await worker();
    await fleet.behave('v4', 'install-hangs');
    const deploy = start(['deploy', 'fleet', 'v4', '--env', 'test', '--yes']);
    await deploy.waitFor('g1: starting');
    running.kill('SIGKILL');
    expect(await deploy.exited()).toBe(1);
    expect(deploy.stderr).toContain(`baton: lost baton process ${running.pid} (baton worker)`);
    expect(deploy.stderr).toContain('look with `baton status`');
  });
});
