import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';
import { BatonProcess } from '../support/processes.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { printedEvents } from '../support/json-events.js';

let fleet: Fleet;
const prefix = testPrefix('durable');

function env(): Record<string, string> {
  return { ...fleet.env(), REDIS_URL, BATON_REDIS_PREFIX: prefix };
}

function start(args: string[]): BatonProcess {
  return new BatonProcess(args, env());
}

async function startWorker(): Promise<BatonProcess> {
  const worker = start(['worker', '--grace', '20s']);
  await worker.waitFor('taking rollouts');
  return worker;
}

async function versions(): Promise<string[]> {
  return Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
}

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 8, subnet: 105, spinupMs: 300 });
  await fleet.writePlaybook({
    groups: [0, 2, 4, 6].map((first) => ({ hosts: [first, first + 1] })),
  });
  await fleet.writePlaybook({ service: 'left', groups: [{ hosts: [0, 1] }, { hosts: [2, 3] }] });
  await fleet.writePlaybook({ service: 'right', groups: [{ hosts: [4, 5] }, { hosts: [6, 7] }] });
});
// No process of one test outlives it.
afterEach(() => BatonProcess.killAll());
afterAll(async () => {
  await BatonProcess.killAll();
  await fleet?.stop();
  await dropPrefix(prefix);
});

describe('durable rollouts on Redis', () => {
  it('survives kill -9 of the worker running it: another resumes, and no finished group restarts', async () => {
    const workers = [await startWorker(), await startWorker()];
    const monitor = new FleetMonitor(fleet.hosts);
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
    await deploy.waitFor('"type":"group.started","group":"g2"');
    const acting = printedEvents(deploy.output).find(
      (event) => event.type === 'group.started' && event.group === 'g2',
    )?.worker;
    const victim = workers.find((worker) => acting?.endsWith(`:${worker.pid}`));
    expect(victim).toBeDefined();
    victim?.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await deploy.exited()).toBe(0);
    const report = await monitor.stop();
    const seen = printedEvents(deploy.output);
    const survivor = workers.find((worker) => worker !== victim) as BatonProcess;
    expect(seen.at(-1)).toMatchObject({
      type: 'rollout.completed',
      worker: expect.stringMatching(new RegExp(`:${survivor.pid}$`)),
    });
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    expect(await versions()).toEqual(Array(8).fill('200 ok v2'));
    // g1 was healthy before the kill: restarted exactly once. Nothing anywhere restarted more than twice.
    expect([report.restarts.h1, report.restarts.h2]).toEqual([1, 1]);
    expect(Math.max(...Object.values(report.restarts))).toBeLessThanOrEqual(2);
  });

  it('runs one deploy of a service at a time: a second is refused with who holds it, since when and why', async () => {
    await startWorker();
    const first = start(['deploy', 'fleet', 'v3', '--env', 'test', '--yes']);
    await first.waitFor('g1: starting');
    const second = await baton(['deploy', 'fleet', 'v4', '--env', 'test', '--yes'], env());
    expect(second.status).toBe(6);
    expect(second.stderr).toMatch(
      /fleet in test is locked by terminal:\S+ since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+s ago\): deploy v3\. To stop it: baton cancel fleet --env test/,
    );
    expect(await first.exited()).toBe(0);
    expect(await versions()).toEqual(Array(8).fill('200 ok v3'));
  });

  it('runs rollouts of different services at the same time', async () => {
    await startWorker();
    const left = start([
      'deploy',
      'left',
      'v8',
      '--env',
      'test',
      '--previous',
      'v3',
      '--yes',
      '--json',
    ]);
    const right = start([
      'deploy',
      'right',
      'v8',
      '--env',
      'test',
      '--previous',
      'v3',
      '--yes',
      '--json',
    ]);
    expect(await Promise.all([left.exited(), right.exited()])).toEqual([0, 0]);
    const at = (output: string, type: string) =>
      printedEvents(output).find((event) => event.type === type) as { at: number } | undefined;
    // Each started before the other completed: they overlapped.
    expect(at(left.output, 'rollout.started')?.at).toBeLessThan(
      at(right.output, 'rollout.completed')?.at ?? 0,
    );
    expect(at(right.output, 'rollout.started')?.at).toBeLessThan(
      at(left.output, 'rollout.completed')?.at ?? 0,
    );
    expect(await versions()).toEqual(Array(8).fill('200 ok v8'));
    // Put the fleet back on the version the next tests expect.
    expect(
      (await baton(['deploy', 'fleet', 'v3', '--env', 'test', '--previous', 'v8', '--yes'], env()))
        .status,
    ).toBe(0);
  });

  it('takes the version to roll back to from the history', async () => {
    await startWorker();
    await fleet.behave('v5', 'never-healthy');
    const run = await baton(['deploy', 'fleet', 'v5', '--env', 'test', '--yes'], env());
    expect(run.status).toBe(3);
    expect(run.stdout).toContain('deploy fleet to test: v3 → v5');
    expect(run.stdout).toContain('g1: rolling back to v3');
    expect(await versions()).toEqual(Array(8).fill('200 ok v3'));
  });

  it('cancels a running rollout from another terminal', async () => {
    await startWorker();
    const deploy = start(['deploy', 'fleet', 'v6', '--env', 'test', '--yes']);
    await deploy.waitFor('g2: starting');
    const cancel = await baton(['cancel', 'fleet', '--env', 'test'], env());
    expect(cancel.status).toBe(0);
    expect(cancel.stdout).toMatch(
      /asked to cancel the rollout of fleet in test: it stops after the current step, then applies rollback_group\. \(rollout \S+, started by terminal:\S+\)/,
    );
    expect(await deploy.exited()).toBe(3);
    expect(deploy.output).toMatch(
      /cancel requested by terminal:\S+: stopping after the current step/,
    );
    expect(deploy.output).toContain('g2: rolled back and healthy');
    const now = await versions();
    expect(now.slice(0, 2)).toEqual(['200 ok v6', '200 ok v6']);
    expect(now.slice(2)).toEqual(Array(6).fill('200 ok v3'));
    expect((await baton(['cancel', 'fleet', '--env', 'test'], env())).stderr).toContain(
      'Nothing of fleet in test is rolling out, so there is nothing to cancel.',
    );
  });

  it('on SIGTERM, a worker lets its step finish and exits; another worker completes the rollout', async () => {
    const first = await startWorker();
    const deploy = start([
      'deploy',
      'fleet',
      'v7',
      '--env',
      'test',
      '--previous',
      'v6',
      '--yes',
      '--json',
    ]);
    await deploy.waitFor('"type":"step.started"');
    first.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(await first.exited()).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(first.output).toContain('stopping; steps in flight may take up to 20s');
    await startWorker();
    expect(await deploy.exited()).toBe(0);
    expect(await versions()).toEqual(Array(8).fill('200 ok v7'));
  });
});
