import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { BatonProcess } from '../support/processes.js';
import { OwnRedis } from '../support/redis-server.js';

let fleet: Fleet;
let redis: OwnRedis;

beforeAll(async () => {
  redis = await OwnRedis.start(6391);
  fleet = await Fleet.start({ hosts: 6, subnet: 107, spinupMs: 300 });
  await fleet.writePlaybook({ groups: [0, 2, 4].map((first) => ({ hosts: [first, first + 1] })) });
});
afterAll(async () => {
  await BatonProcess.killAll();
  await fleet?.stop();
  await redis?.stop();
});

describe('a Redis restart in the middle of a rollout', () => {
  it('pauses the rollout and lets it go on: nothing is lost and no host is restarted twice', async () => {
    const env = { ...fleet.env(), REDIS_URL: redis.url, BATON_REDIS_PREFIX: 'baton' };
    const worker = new BatonProcess(['worker'], env);
    await worker.waitFor('taking rollouts');
    const monitor = new FleetMonitor(fleet.hosts);
    const deploy = new BatonProcess(
      ['deploy', 'fleet', 'v2', '--env', 'test', '--previous', 'v1', '--yes'],
      env,
    );
    await deploy.waitFor('g2: starting');
    await redis.restart();
    expect(await deploy.exited()).toBe(0);
    const report = await monitor.stop();
    expect(deploy.output).toContain('done: fleet v2 is on every host of test');
    expect(worker.output).not.toContain('Unhandled error');
    expect(await Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)))).toEqual(
      Array(6).fill('200 ok v2'),
    );
    expect(Object.values(report.restarts)).toEqual(Array(6).fill(1));
  });
});
