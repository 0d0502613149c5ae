import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor, type MonitorReport } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';

let fleet: Fleet;
const GROUPS = [
  { hosts: [0, 1], parallel: 1 },
  { hosts: [2, 3], parallel: 2 },
  { hosts: [4, 5], parallel: 1 },
];

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 6, subnet: 103, spinupMs: 150 });
  await fleet.writePlaybook({ groups: GROUPS, healthTimeout: '3s', stepTimeout: '2s' });
});
afterAll(async () => {
  await fleet?.stop();
});

/** Runs `baton deploy` against the fleet while the monitor watches every host. */
async function deploy(
  version: string,
  previous: string,
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  const monitor = new FleetMonitor(fleet.hosts);
  const run = await baton(
    ['deploy', 'fleet', version, '--env', 'test', '--previous', previous, '--yes', ...extra],
    { ...fleet.env(), ...env },
  );
  const report = await monitor.stop();
  return { ...run, report };
}

/** The version the fleet is on now (every test leaves all hosts on one version). */
async function current(): Promise<string> {
  return (await fleet.health(fleet.hosts[0] as FleetHost)).replace('200 ok ', '');
}

async function versions(): Promise<string[]> {
  return Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
}

function maxDownPerGroup(report: MonitorReport): number[] {
  return GROUPS.map((group) => {
    const names = group.hosts.map((index) => fleet.hosts[index]?.name);
    return Math.max(
      0,
      ...report.downSets.map((down) => down.filter((name) => names.includes(name)).length),
    );
  });
}

function events(
  stdout: string,
): { type: string; group?: string; host?: string; [key: string]: unknown }[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string });
}

describe('baton deploy over real SSH', () => {
  it('rolls 6 hosts in 3 groups onto the new version, in order, within each group’s parallelism', async () => {
    const { status, stdout, stderr, report } = await deploy('v2', 'v1');
    // The file's first deploy creates the embedded database, and says so; nothing else is said.
    expect(stderr).toMatch(
      /^baton: creating the embedded database in \S+ \(first use only: a few seconds\)\.\n$/,
    );
    expect(status).toBe(0);
    expect(stdout).toMatch(/done: fleet v2 is on every host of test \(\d+\.\ds\)\n$/);
    expect(await versions()).toEqual(Array(6).fill('200 ok v2'));
    // Every host went down exactly once, group by group.
    expect(report.restarts).toEqual({ h1: 1, h2: 1, h3: 1, h4: 1, h5: 1, h6: 1 });
    const order = report.downOrder.map((name) =>
      GROUPS.findIndex((group) => group.hosts.some((index) => fleet.hosts[index]?.name === name)),
    );
    expect(order).toEqual([...order].sort());
    const perGroup = maxDownPerGroup(report);
    perGroup.forEach((down, index) =>
      expect(down).toBeLessThanOrEqual(GROUPS[index]?.parallel ?? 0),
    );
    expect(report.maxDown).toBeLessThanOrEqual(2);
    // Hosts from two groups are never down together.
    const groupOf = (name: string) =>
      GROUPS.findIndex((group) => group.hosts.some((index) => fleet.hosts[index]?.name === name));
    for (const down of report.downSets)
      expect(new Set(down.map(groupOf)).size).toBeLessThanOrEqual(1);
  });

  it('halts a never-healthy version in the first group, rolls that group back, and leaves the rest alone', async () => {
    await fleet.behave('v3', 'never-healthy');
    const before = await current();
    const { status, stdout, report } = await deploy('v3', before, ['--json']);
    expect(status).toBe(3);
    const seen = events(stdout);
    expect(seen.map((event) => event.type)).toContain('rollback.finished');
    expect(seen.at(-1)).toMatchObject({
      type: 'rollout.halted',
      status: 'rolled_back',
      rollout: expect.any(String),
      worker: expect.any(String),
    });
    expect(seen.find((event) => event.type === 'health.timed_out')).toMatchObject({
      group: 'g1',
      host: 'h1',
      detail: 'HTTP 503 (want 200): unhealthy v3',
    });
    expect(await versions()).toEqual(Array(6).fill(`200 ok ${before}`));
    // A never-healthy h1 stays down from its restart until the rollback brings it back: one outage.
    expect(report.restarts).toEqual({ h1: 1, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0 });
  });

  it('stops a step that hangs, says which host timed out, and rolls it back', async () => {
    await fleet.behave('v4', 'install-hangs');
    const before = await current();
    const { status, stdout, report } = await deploy('v4', before);
    expect(status).toBe(3);
    expect(stdout).toContain('g1 h1: install TIMED OUT');
    expect(stdout).toContain('g1: rolled back and healthy');
    expect(stdout).toContain(`back on ${before}: h1`);
    expect(stdout).toContain('untouched: h2, h3, h4, h5, h6');
    expect(await versions()).toEqual(Array(6).fill(`200 ok ${before}`));
    expect(report.restarts.h1).toBe(1);
  });

  it('reports a failing step with its exit code and output', async () => {
    await fleet.behave('v5', 'install-fails');
    const before = await current();
    const { status, stdout } = await deploy('v5', before);
    expect(status).toBe(3);
    expect(stdout).toContain(
      'g1 h1: install FAILED (exit 3): fleetctl: cannot install v5: checksum mismatch',
    );
    expect(await versions()).toEqual(Array(6).fill('200 ok v2'));
  });

  it('says which host is left part-way when the policy is to halt', async () => {
    await fleet.writePlaybook({
      service: 'halting',
      groups: GROUPS,
      onFailure: 'halt',
      healthTimeout: '2s',
    });
    await fleet.behave('v6', 'never-healthy');
    const before = await current();
    const monitor = new FleetMonitor(fleet.hosts);
    const run = await baton(
      ['deploy', 'halting', 'v6', '--env', 'test', '--previous', before, '--yes'],
      fleet.env(),
    );
    await monitor.stop();
    expect(run.status).toBe(3);
    expect(run.stdout).toContain('nothing was rolled back because on_failure is halt');
    expect(run.stdout).toContain(
      'NEEDS A LOOK (left part-way): h1 (failed after its steps, not healthy: HTTP 503 (want 200): unhealthy v6)',
    );
    // Put h1 back for the tests after this one.
    await baton(
      ['deploy', 'fleet', before, '--env', 'test', '--previous', 'v6', '--yes'],
      fleet.env(),
    );
  });

  it('refuses a wrong host key before touching any host', async () => {
    const wrong = join(fleet.dir, 'known_hosts.shuffled');
    const lines = (await readFile(fleet.knownHostsPath, 'utf8')).trim().split('\n');
    const keys = lines.map((line) => line.split(' ').slice(1).join(' '));
    await writeFile(
      wrong,
      lines
        .map((line, index) => `${line.split(' ')[0]} ${keys[(index + 1) % keys.length]}`)
        .join('\n'),
    );
    const { status, stderr, report } = await deploy('v7', 'v2', [], { BATON_KNOWN_HOSTS: wrong });
    expect(status).toBe(4);
    expect(stderr).toContain(
      `The host key of h1 (${fleet.hosts[0]?.address}:2222) does not match the BATON_KNOWN_HOSTS file`,
    );
    expect(stderr).toContain('6 hosts cannot be used; nothing was changed on any host.');
    expect(Object.values(report.restarts)).toEqual(Array(6).fill(0));
  });

  it('refuses an unreachable host before touching any host', async () => {
    await fleet.writePlaybook({ service: 'ghost', groups: [{ hosts: [0] }] });
    const path = join(fleet.playbooksDir, 'ghost.yml');
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace(
        `{ address: ${fleet.hosts[0]?.address}, name: h1 }`,
        '{ address: 127.103.0.99, name: nowhere }',
      ),
    );
    const monitor = new FleetMonitor(fleet.hosts);
    const run = await baton(['deploy', 'ghost', 'v8', '--env', 'test', '--yes'], fleet.env());
    const report = await monitor.stop();
    expect(run.status).toBe(4);
    expect(run.stderr).toContain('Cannot connect to nowhere (127.103.0.99:2222): ECONNREFUSED.');
    expect(Object.values(report.restarts)).toEqual(Array(6).fill(0));
  });

  it.each(['v1.4;touch /tmp/pwned', '$(id)', 'v2 && reboot'])(
    'refuses the version %j before any connection is opened',
    async (version) => {
      // A known_hosts file that does not exist: any connection attempt would fail with exit 4, not 2.
      const run = await baton(['deploy', 'fleet', version, '--env', 'test', '--yes'], {
        ...fleet.env(),
        BATON_KNOWN_HOSTS: '/nonexistent/known_hosts',
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain("does not match fleet's version_pattern ^v\\d+(\\.\\d+)*$");
      expect(existsSync('/tmp/pwned')).toBe(false);
    },
  );

  it('needs BATON_KNOWN_HOSTS: there is no way to skip host key checks', async () => {
    const run = await baton(['deploy', 'fleet', 'v2', '--env', 'test', '--yes'], {
      BATON_PLAYBOOKS: fleet.playbooksDir,
      BATON_SSH_KEY: fleet.clientKeyPath,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('set BATON_KNOWN_HOSTS');
  });

  it('without --yes and no terminal, stops at a manual gate and rolls the canary back', async () => {
    await fleet.writePlaybook({
      service: 'gated',
      groups: [{ hosts: [0], gate: 'manual' }, { hosts: [1] }],
    });
    const before = await current();
    const run = await baton(
      ['deploy', 'gated', 'v9', '--env', 'test', '--previous', before],
      fleet.env(),
    );
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(
      'g1 waits for Continue, and there is no terminal to ask: stopping. Pass --yes',
    );
    expect(await fleet.health(fleet.hosts[0] as FleetHost)).toBe(`200 ok ${before}`);
    expect(await fleet.health(fleet.hosts[1] as FleetHost)).toBe(`200 ok ${before}`);
  });
});
