import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandSocketConnection,
  HELLO_MS,
} from '../../src/adapters/embedded/command-socket-client.js';
import { commandSocketPlace } from '../../src/config/command-socket-place.js';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { baton } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { BatonProcess } from '../support/processes.js';
import { OwnRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import { printedEvents } from '../support/json-events.js';

// A `baton worker` on Redis answers terminal commands on this machine that use the same Redis
// and prefix, so that they load and connect nothing of Redis's. A Redis of the test's own: its
// count of connections received says whether a command reached Redis itself.
let fleet: Fleet;
let redis: OwnRedis;
let admin: Redis;
const PREFIX = 'socket';
const now = () => Date.now();
const env = (prefix = PREFIX) => ({
  ...fleet.env(),
  REDIS_URL: redis.url,
  BATON_REDIS_PREFIX: prefix,
});

function start(args: string[]): BatonProcess {
  return new BatonProcess(args, env());
}

async function worker(): Promise<BatonProcess> {
  const running = start(['worker', '--grace', '20s']);
  await running.waitFor('terminal commands on it are answered on', 30_000);
  return running;
}

async function connectionsReceived(): Promise<number> {
  const stats = (await admin.info('stats')) as string;
  return Number(/total_connections_received:(\d+)/.exec(stats)?.[1]);
}

async function connectedClients(): Promise<number> {
  const clients = (await admin.info('clients')) as string;
  return Number(/connected_clients:(\d+)/.exec(clients)?.[1]);
}

async function versions(): Promise<string[]> {
  return Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
}

beforeAll(async () => {
  redis = await OwnRedis.start(await freePort());
  admin = new Redis(redis.url);
  fleet = await Fleet.start({ hosts: 4, subnet: 163, spinupMs: 200 });
  await fleet.writePlaybook({ groups: [{ hosts: [0, 1] }, { hosts: [2, 3] }] });
});
afterEach(() => BatonProcess.killAll());
afterAll(async () => {
  await BatonProcess.killAll();
  admin?.disconnect();
  await redis?.stop();
  await fleet?.stop();
});

describe('terminal commands beside a baton worker on Redis', () => {
  it('are answered by the worker on the same Redis and prefix, without connecting to Redis', async () => {
    const running = await worker();
    const place = commandSocketPlace({
      REDIS_URL: redis.url,
      BATON_REDIS_PREFIX: PREFIX,
      BATON_DATA_DIR: '.data',
    });
    const hello = await CommandSocketConnection.connect(place.dir, HELLO_MS, place.backend);
    expect(hello?.server).toMatchObject({ pid: running.pid, command: 'baton worker' });
    await hello?.close();

    const before = await connectionsReceived();
    const locked = await baton(['lock', 'fleet', '--env', 'test', 'maintenance'], env(), now);
    expect(locked.stderr).toBe('');
    expect(locked.status).toBe(0);
    const status = await baton(['status', 'fleet'], env(), now);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/fleet test: .*LOCKED by terminal:.*maintenance/);
    expect(await connectionsReceived()).toBe(before);

    // Another prefix is other state: the worker does not answer for it, Redis does.
    const other = await baton(['status', 'fleet'], env('other'), now);
    expect(other.status).toBe(0);
    expect(other.stdout).not.toContain('LOCKED');
    expect(await connectionsReceived()).toBeGreaterThan(before);

    const unlocked = await baton(['unlock', 'fleet', '--env', 'test'], env(), now);
    expect(unlocked.status).toBe(0);

    // A deploy followed through the worker: the Redis connection the worker opened for its
    // blocking reads is closed with the terminal's connection.
    const clients = await connectedClients();
    const deploy = start(['deploy', 'fleet', 'v9', '--env', 'test', '--yes']);
    expect(await deploy.exited()).toBe(0);
    expect(await versions()).toEqual(Array(4).fill('200 ok v9'));
    await until(async () => (await connectedClients()) === clients, {
      what: `${clients} clients connected to Redis again`,
    });
    running.kill('SIGTERM');
    expect(await running.exited()).toBe(0);
  });

  it('follows a deploy through the worker, and on Redis itself once that worker is killed', async () => {
    const first = await worker();
    const deploy = start(['deploy', 'fleet', 'v2', '--env', 'test', '--yes', '--json']);
    await deploy.waitFor('"type":"group.started"');
    first.kill('SIGKILL');
    await first.exited();
    // Another worker takes the rollout up once the killed one's lock on it lapses.
    const second = await worker();
    expect(await deploy.exited()).toBe(0);
    expect(deploy.stderr).toContain(
      `baton process ${first.pid} (baton worker), which answered this command, stopped answering; going on with Redis directly.`,
    );
    const seen = printedEvents(deploy.stdout);
    expect(seen.at(-1)?.type).toBe('rollout.completed');
    expect(new Set(seen.map((event) => event.worker))).toEqual(
      new Set([`${hostname()}:${first.pid}`, `${hostname()}:${second.pid}`]),
    );
    expect(await versions()).toEqual(Array(4).fill('200 ok v2'));
  });

  it('has a deploy --worker connect to Redis itself, for the worker it starts', async () => {
    const running = await worker();
    const before = await connectionsReceived();
    const deploy = start(['deploy', 'fleet', 'v3', '--env', 'test', '--yes', '--json', '--worker']);
    expect(await deploy.exited()).toBe(0);
    expect(printedEvents(deploy.stdout).at(-1)?.type).toBe('rollout.completed');
    // Either worker may take the job from the queue; the terminal's needed Redis all the same.
    expect(await connectionsReceived()).toBeGreaterThan(before);
    expect(await versions()).toEqual(Array(4).fill('200 ok v3'));
    running.kill('SIGTERM');
    expect(await running.exited()).toBe(0);
  });
});
