import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { freePort } from '../support/ports.js';
import { BatonProcess } from '../support/processes.js';
import { OwnRedis } from '../support/redis-server.js';

/**
 * The fault tier with real processes: a standing `baton worker` and a `baton deploy` following
 * it, on a Redis of this file's own, which misbehaves in the middle of group 2 as production ones
 * do. Whatever it does, the deploy ends done and every host is restarted once, one group at a
 * time. (A Redis restart mid-rollout is test/integration/redis-restart.test.ts.)
 */
let fleet: Fleet;
let redis: OwnRedis;
let admin: Redis;
let worker: BatonProcess;
let version = 1;

const env = () => ({ ...fleet.env(), REDIS_URL: redis.url, BATON_REDIS_PREFIX: 'baton' });
const versions = () => Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
/** How long a fault lasts: a failover's few seconds, within what a store call is retried for. */
const OUTAGE_MS = 8000;

beforeAll(async () => {
  redis = await OwnRedis.start(await freePort());
  admin = new Redis(redis.url);
  fleet = await Fleet.start({ hosts: 6, subnet: 122, spinupMs: 300 });
  await fleet.writePlaybook({ groups: [0, 2, 4].map((first) => ({ hosts: [first, first + 1] })) });
  worker = new BatonProcess(['worker', '--grace', '20s'], env());
  await worker.waitFor('taking rollouts');
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await BatonProcess.killAll();
  await fleet?.stop();
  await redis?.stop();
});

/** Deploys the next version, doing `fault` once group 2 starts; checks everything came out right. */
async function deployThrough(fault: () => Promise<void>): Promise<void> {
  const from = `v${version}`;
  const to = `v${++version}`;
  const monitor = new FleetMonitor(fleet.hosts);
  const deploy = new BatonProcess(
    ['deploy', 'fleet', to, '--env', 'test', '--previous', from, '--yes'],
    env(),
  );
  await deploy.waitFor('g2: starting');
  await fault();
  expect(await deploy.exited()).toBe(0);
  const report = await monitor.stop();
  expect(deploy.output).toContain(`done: fleet ${to} is on every host of test`);
  expect(await versions()).toEqual(Array(6).fill(`200 ok ${to}`));
  expect(Object.values(report.restarts)).toEqual(Array(6).fill(1));
  // One group of two at a time, whatever Redis did.
  expect(report.maxDown).toBeLessThanOrEqual(2);
  expect(worker.child.exitCode).toBeNull();
  expect(`${worker.output}${deploy.output}`).not.toMatch(/Unhandled error|UnhandledPromise/);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('with a standing worker, when Redis misbehaves mid-rollout', () => {
  it('rides out Redis turning read-only for a while, as in a failover', async () => {
    await deployThrough(async () => {
      // A replica of a master that is not there: reads go on, writes are refused.
      await admin.replicaof('127.0.0.1', String(await freePort()));
      await pause(OUTAGE_MS);
      await admin.replicaof('NO', 'ONE');
    });
  });

  it('rides out its connections being dropped', async () => {
    await deployThrough(async () => {
      // Every client but this one, the worker's and the terminal's alike.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    });
  });

  it('takes a following deploy as usual afterwards', async () => {
    await deployThrough(async () => {});
  });
});
