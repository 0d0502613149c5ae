import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';

/**
 * --hosts / --groups and max_unreachable against real sshd hosts. The tests run in order: the
 * filters on the whole fleet first, then with h3's sshd stopped (its service still answers, so
 * the test can tell it was not updated).
 */

let fleet: Fleet;
const GROUPS = [{ hosts: [0] }, { hosts: [1, 2], parallel: 2 }, { hosts: [3, 4] }];

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 5, subnet: 141, spinupMs: 100 });
  await fleet.writePlaybook({ groups: GROUPS, healthTimeout: '5s', stepTimeout: '5s' });
});
afterAll(async () => {
  await fleet?.stop();
});

async function versions(): Promise<Record<string, string>> {
  const all = await Promise.all(
    fleet.hosts.map(async (host: FleetHost) => [host.name, await fleet.health(host)] as const),
  );
  return Object.fromEntries(all.map(([name, health]) => [name, health.replace('200 ok ', '')]));
}

async function deploy(service: string, version: string, previous: string, extra: string[] = []) {
  const monitor = new FleetMonitor(fleet.hosts);
  const run = await baton(
    ['deploy', service, version, '--env', 'test', '--previous', previous, '--yes', ...extra],
    fleet.env(),
  );
  return { ...run, report: await monitor.stop() };
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; notUpdated?: string[] });

describe('--hosts and --groups', () => {
  it('--hosts updates only the hosts named, by their playbook names', async () => {
    const run = await deploy('fleet', 'v2', 'v1', ['--hosts', 'h2,h4']);
    expect(run.status).toBe(0);
    expect(await versions()).toEqual({ h1: 'v1', h2: 'v2', h3: 'v1', h4: 'v2', h5: 'v1' });
    expect(run.report.restarts).toEqual({ h1: 0, h2: 1, h3: 0, h4: 1, h5: 0 });
    expect(run.stdout).toContain('2 groups, 2 hosts (only --hosts h2,h4)');
    expect(run.stdout).toMatch(/done: fleet v2 is on 2 hosts of test \(only --hosts h2,h4\)/);
  });

  it('--groups updates only the groups named', async () => {
    const run = await deploy('fleet', 'v2', 'v1', ['--groups', 'g2']);
    expect(run.status).toBe(0);
    expect(await versions()).toEqual({ h1: 'v1', h2: 'v2', h3: 'v2', h4: 'v2', h5: 'v1' });
    // h2 was on v2 already, but the deploy runs its steps again: it covers what it was told to.
    expect(run.report.restarts).toEqual({ h1: 0, h2: 1, h3: 1, h4: 0, h5: 0 });
  });

  it('a rollback takes them too', async () => {
    const run = await baton(
      ['rollback', 'fleet', 'v1', '--env', 'test', '--previous', 'v2', '--yes', '--groups', 'g2'],
      fleet.env(),
    );
    expect(run.status).toBe(0);
    expect(await versions()).toEqual({ h1: 'v1', h2: 'v1', h3: 'v1', h4: 'v2', h5: 'v1' });
  });

  it('baton plan shows the part of the fleet it covers', async () => {
    const run = await baton(
      ['plan', 'fleet', 'v3', '--env', 'test', '--groups', 'g3', '--hosts', 'h5'],
      fleet.env(),
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('only: --groups g3 --hosts h5');
    expect(run.stdout).toContain('1. g3: 1 host, 1 at a time');
    expect(run.stdout).not.toContain('g1');
  });

  it.each([
    [['--groups', 'gg2'], "test has no group 'gg2'; it has g1, g2, g3. Did you mean 'g2'?"],
    [['--hosts', 'h4,nowhere'], "test has no host 'nowhere'; it has h1, h2, h3, h4, h5."],
    [['--groups', 'g1', '--hosts', 'h4'], 'h4 is in group g3, which --groups leaves out (g1).'],
    [['--hosts', 'h1;id'], "'h1;id' is not a host name"],
  ])('%j is refused before any host is touched', async (flags, message) => {
    const before = await versions();
    const run = await deploy('fleet', 'v3', 'v1', flags);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(Object.values(run.report.restarts)).toEqual([0, 0, 0, 0, 0]);
    expect(await versions()).toEqual(before);
  });
});

describe('max_unreachable with a stopped sshd', () => {
  beforeAll(async () => {
    await fleet.writePlaybook({
      service: 'budget',
      groups: GROUPS,
      healthTimeout: '5s',
      stepTimeout: '5s',
      access: ['max_unreachable: 1'],
    });
    await fleet.writePlaybook({
      service: 'strict',
      groups: GROUPS,
      healthTimeout: '5s',
      stepTimeout: '5s',
      access: ["max_unreachable: '10%'"],
    });
    await fleet.stopSsh(fleet.hosts[2] as FleetHost);
  });

  it('without a budget, an unreachable host refuses the deploy as it always did', async () => {
    const before = await versions();
    const run = await deploy('fleet', 'v3', 'v1');
    expect(run.status).toBe(4);
    expect(run.stderr).toContain(`Cannot connect to h3 (${fleet.hosts[2]?.address}:2222)`);
    expect(run.stderr).toContain('1 host cannot be used; nothing was changed on any host.');
    expect(Object.values(run.report.restarts)).toEqual([0, 0, 0, 0, 0]);
    expect(await versions()).toEqual(before);
  });

  it('over the budget (10% of 5 hosts is 0) the deploy is refused, saying so', async () => {
    const run = await deploy('strict', 'v3', 'v1');
    expect(run.status).toBe(4);
    expect(run.stderr).toContain(
      'baton: 1 host of 5 cannot be connected to, more than max_unreachable 10% allows (0); nothing was changed on any host.',
    );
    expect(Object.values(run.report.restarts)).toEqual([0, 0, 0, 0, 0]);
  });

  it('within the budget the others are updated and h3 is named as not updated', async () => {
    const run = await deploy('budget', 'v3', 'v1');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await versions()).toEqual({ h1: 'v3', h2: 'v3', h3: 'v1', h4: 'v3', h5: 'v3' });
    expect(run.report.restarts).toEqual({ h1: 1, h2: 1, h3: 0, h4: 1, h5: 1 });
    expect(run.stdout).toMatch(
      /not updated: h3 \(g2\), left out within max_unreachable 1: Cannot connect to h3 \(127\.141\.0\.13:2222\)/,
    );
    expect(run.stdout).toMatch(
      /done: budget v3 is on 4 hosts of test \(\d+\.\ds\)\n {2}not updated/,
    );
    expect(run.stdout).toContain('  not updated: h3');
  });

  it('--json names the host left out at the start and at the end', async () => {
    const run = await deploy('budget', 'v4', 'v3', ['--json']);
    expect(run.status).toBe(0);
    const said = events(run.stdout);
    expect(said.find((event) => event.type === 'rollout.started')?.notUpdated).toEqual(['h3']);
    expect(said.find((event) => event.type === 'rollout.completed')?.notUpdated).toEqual(['h3']);
    expect((await versions()).h3).toBe('v1');
  });

  it('--hosts naming only the unreachable host leaves nothing to deploy, and is refused', async () => {
    const run = await deploy('budget', 'v5', 'v4', ['--hosts', 'h3']);
    expect(run.status).toBe(4);
    expect(run.stderr).toContain(
      'baton: none of the hosts can be connected to (1 of 1); nothing was changed on any host.',
    );
  });
});
