import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';
import { BatonProcess } from '../support/processes.js';

// No REDIS_URL anywhere here: every baton keeps its queue and state in the fleet's data directory.
let fleet: Fleet;

function start(args: string[]): BatonProcess {
  return new BatonProcess(args, fleet.env());
}

async function versions(): Promise<string[]> {
  return Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
}

async function stop(child: BatonProcess): Promise<void> {
  child.kill('SIGTERM');
  expect(await child.exited()).toBe(0);
}

const now = () => Date.now();

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 6, subnet: 110, spinupMs: 300 });
  await fleet.writePlaybook({ groups: [0, 2, 4].map((first) => ({ hosts: [first, first + 1] })) });
});
// No process of one test outlives it.
afterEach(() => BatonProcess.killAll());
afterAll(async () => {
  await BatonProcess.killAll();
  await fleet?.stop();
});

describe('the embedded backend (no REDIS_URL)', () => {
  it('resumes a deploy whose process was killed with kill -9 when baton starts again on the same data', async () => {
    const monitor = new FleetMonitor(fleet.hosts);
    const deploy = start(['deploy', 'fleet', 'v2', '--env', 'test', '--previous', 'v1', '--yes']);
    await deploy.waitFor('g2: starting', 60_000);
    deploy.kill('SIGKILL');
    await deploy.exited();
    expect(existsSync(join(fleet.env().BATON_DATA_DIR ?? '', 'db', 'baton.lock'))).toBe(true);

    // The lock left by the killed process is taken over; the rollout's job lapses and is resumed.
    const worker = start(['worker', '--grace', '20s']);
    await worker.waitFor('taking rollouts from the embedded database');
    // Its end recorded, not only every host on v2: the worker's bookkeeping comes after the last
    // healthy host, and a worker stopped before it leaves that to the next one.
    await worker.waitFor('(deploy fleet v2 to test) ended: succeeded', 60_000);
    expect(await versions()).toEqual(Array(6).fill('200 ok v2'));
    await stop(worker);
    const report = await monitor.stop();
    // g1 was healthy before the kill: it was not restarted again.
    expect([report.restarts.h1, report.restarts.h2]).toEqual([1, 1]);
    expect(Math.max(...Object.values(report.restarts))).toBeLessThanOrEqual(2);
    // Never more than one group's hosts down at once, across the kill and the resume.
    expect(report.maxDown).toBeLessThanOrEqual(2);

    const history = await baton(['history', 'fleet', '--env', 'test'], fleet.env(), now);
    expect(history.status).toBe(0);
    expect(history.stdout).toMatch(/deploy v2 .*succeeded/);
  });

  it('keeps a scheduled rollback across a restart: it fires once a baton runs again', async () => {
    const scheduled = await baton(
      ['rollback', 'fleet', 'v1', '--env', 'test', '--in', '2s'],
      fleet.env(),
      now,
    );
    expect(scheduled.status).toBe(0);
    expect(scheduled.stdout).toContain('It fires when due while baton runs on');
    const listed = await baton(['schedules'], fleet.env(), now);
    expect(listed.stdout).toContain('fleet');
    // Nothing runs on the data while it comes due; it fires when a worker starts.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await versions()).toEqual(Array(6).fill('200 ok v2'));
    const worker = start(['worker', '--grace', '20s']);
    await worker.waitFor('taking rollouts');
    // Its end recorded, not only every host back on v1: the worker's bookkeeping comes after.
    await worker.waitFor('(rollback fleet v1 to test) ended: succeeded', 60_000);
    await stop(worker);
    expect(await versions()).toEqual(Array(6).fill('200 ok v1'));
    const history = await baton(['history', 'fleet', '--env', 'test'], fleet.env(), now);
    expect(history.stdout.split('\n')[0]).toMatch(/rollback v1 .*succeeded/);
    expect((await baton(['schedules'], fleet.env(), now)).stdout).toContain('No scheduled');
  });

  it('refuses a second worker on the same data, saying which process has it', async () => {
    const worker = start(['worker', '--grace', '20s']);
    await worker.waitFor('taking rollouts');
    const second = start(['worker']);
    expect(await second.exited()).toBe(6);
    expect(second.output).toContain(`in use by baton process ${worker.pid}`);
    expect(second.output).toContain('set REDIS_URL');
    // A terminal command is answered by the worker that holds the data (command-socket.test.ts).
    expect((await baton(['status'], fleet.env(), now)).status).toBe(0);
    await stop(worker);
    // Once it has stopped, the data is free again.
    expect((await baton(['status'], fleet.env(), now)).status).toBe(0);
  });

  it('stops a worker whose data directory is removed under it, with status 1 and why', async () => {
    const worker = start(['worker', '--grace', '20s']);
    await worker.waitFor('taking rollouts');
    const dataDir = fleet.env().BATON_DATA_DIR as string;
    rmSync(dataDir, { recursive: true, force: true });
    // Left running, it would store into files nobody sees while the next baton made a new
    // database there and took the directory for its own.
    expect(await worker.exited()).toBe(1);
    expect(worker.output).toContain(`the data directory ${dataDir}`);
    expect(worker.output).toContain('was removed or replaced while this process held it');
    // It stopped on its own path, not through the crash guard.
    expect(worker.output).not.toMatch(/nothing handled it|was not caught/);
    expect((await baton(['status'], fleet.env(), now)).status).toBe(0);
  });

  it('stops a deploy that runs its rollout here when the data directory is removed under it', async () => {
    await fleet.writePlaybook({
      service: 'stuck',
      groups: [{ hosts: [0] }, { hosts: [1] }],
      healthTimeout: '60s',
    });
    // The first group's host never answers healthy, so the rollout is still on it when the
    // directory goes.
    await fleet.behave('v99', 'never-healthy');
    const deploy = start(['deploy', 'stuck', 'v99', '--env', 'test', '--yes', '--json']);
    await deploy.waitFor('"type":"step.succeeded"', 60_000);
    const dataDir = fleet.env().BATON_DATA_DIR as string;
    rmSync(dataDir, { recursive: true, force: true });
    expect(await deploy.exited()).toBe(1);
    expect(deploy.output).toContain('was removed or replaced while this process held it');
    expect(deploy.output).toContain('cannot be resumed from that directory');
    expect(deploy.output).not.toMatch(/nothing handled it|was not caught/);
    // It stopped where it was, rather than time the host out and roll it back.
    expect(deploy.output).not.toContain('"type":"health.timed_out"');
  });
});
