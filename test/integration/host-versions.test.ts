import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';
import { until } from '../support/until.js';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 3, subnet: 132, spinupMs: 100 });
});
afterAll(async () => {
  await fleet?.stop();
});

const host = (index: number) => fleet.hosts[index] as FleetHost;

/** Puts one host on a version by hand, as a person (or a deploy that died) would have left it. */
async function putOnVersion(index: number, version: string): Promise<void> {
  await fleet.ssh(host(index), `${fleet.fleetctl} restart ${version}`);
  await until(async () => (await fleet.health(host(index))) === `200 ok ${version}`, {
    what: `${host(index).name} on ${version}`,
  });
}

async function writePlaybook(version: string, extra = ''): Promise<void> {
  await fleet.writePlaybook({
    groups: [{ hosts: [0] }, { hosts: [1, 2] }],
    onFailure: 'halt',
    healthTimeout: '5s',
  });
  await appendFile(join(fleet.playbooksDir, 'fleet.yml'), `${version}\n${extra}`);
}

async function deploy(version: string, previous: string) {
  const monitor = new FleetMonitor(fleet.hosts);
  const result = await baton(
    ['deploy', 'fleet', version, '--env', 'test', '--previous', previous, '--yes'],
    fleet.env(),
  );
  return { ...result, report: await monitor.stop() };
}

const versions = () => Promise.all(fleet.hosts.map((each) => fleet.health(each)));

describe('what each host really runs, over real SSH', () => {
  it('leaves out a host already healthy on the target (read from its health response)', async () => {
    await putOnVersion(0, 'v2');
    await writePlaybook("version: { from_health: 'ok (\\S+)' }");
    const { status, stdout, report } = await deploy('v2', 'v1');
    expect(status, stdout).toBe(0);
    expect(stdout).toContain('already on v2, left out: h1');
    expect(stdout).toContain('left out as already on it: h1');
    expect(report.restarts).toEqual({ h1: 0, h2: 1, h3: 1 });
    expect(await versions()).toEqual(['200 ok v2', '200 ok v2', '200 ok v2']);
  });

  it('a half-done deploy run again finishes it, touching only the hosts it had not done (version read by a command over SSH)', async () => {
    await writePlaybook(`version: { command: '${fleet.fleetctl} status | cut -d" " -f2' }`);
    await fleet.behave('v3', 'install-fails', host(2));
    // h3's install fails: on_failure halt leaves h1 and h2 on v3, h3 on v2.
    const first = await deploy('v3', 'v2');
    expect(first.status).not.toBe(0);
    expect(first.report.restarts).toEqual({ h1: 1, h2: 1, h3: 0 });
    expect(await versions()).toEqual(['200 ok v3', '200 ok v3', '200 ok v2']);
    // The history's last good deploy is v2; what the hosts run is not all that. h3 was left
    // part-way (its install failed), so baton does not claim to know what it runs.
    const status = await baton(['status', 'fleet'], fleet.env());
    expect(status.stdout).toContain(
      'fleet test: v2 (hosts: h1 v3, h2 v3, h3 ?; drift from v2: h1 on v3, h2 on v3)',
    );

    await fleet.behave('v3', 'normal', host(2));
    const again = await deploy('v3', 'v2');
    expect(again.status, again.stdout).toBe(0);
    expect(again.stdout).toContain('already on v3, left out: h1, h2');
    expect(again.report.restarts).toEqual({ h1: 0, h2: 0, h3: 1 });
    expect(await versions()).toEqual(['200 ok v3', '200 ok v3', '200 ok v3']);
  });

  it('with skip_current: false every host is deployed again', async () => {
    await writePlaybook("version: { from_health: 'ok (\\S+)' }", 'skip_current: false\n');
    const again = await deploy('v3', 'v2');
    expect(again.status, again.stdout).toBe(0);
    expect(again.stdout).not.toContain('left out');
    expect(again.report.restarts).toEqual({ h1: 1, h2: 1, h3: 1 });
  });

  it('a rollback takes a host back to what it really ran, not what the history says', async () => {
    await putOnVersion(0, 'v3');
    await putOnVersion(1, 'v3');
    // h3, the canary here, drifted: someone put it back on v1 by hand.
    await putOnVersion(2, 'v1');
    await fleet.writePlaybook({
      groups: [{ hosts: [2] }, { hosts: [0, 1] }],
      onFailure: 'rollback_group',
      healthTimeout: '2s',
    });
    await appendFile(
      join(fleet.playbooksDir, 'fleet.yml'),
      "version: { from_health: 'ok (\\S+)' }\n",
    );
    await fleet.behave('v4', 'never-healthy');
    const { status, stdout } = await deploy('v4', 'v3');
    expect(status).not.toBe(0);
    expect(stdout).toContain('h3 did not become healthy in time');
    // Back on v1, which it ran before; the history's v3 would have been a version it never had.
    expect(await versions()).toEqual(['200 ok v3', '200 ok v3', '200 ok v1']);
    const shown = await baton(['status', 'fleet'], fleet.env());
    expect(shown.stdout).toContain(
      'fleet test: v3 (hosts: h3 v1, h1 v3, h2 v3; MIXED versions (v1, v3); drift from v3: h3 on v1)',
    );
    await fleet.behave('v4', 'normal');
  });

  it('a version read from a host that is no safe version is never used, and the deploy goes on', async () => {
    // The command prints text a shell would run: refused like a typed version, so no host is left out.
    await writePlaybook(`version: { command: 'echo "v3;reboot"' }`);
    const { status, stdout, stderr, report } = await deploy('v3', 'v2');
    expect(status, stdout).toBe(0);
    expect(stdout).not.toContain('left out');
    expect(stderr).toContain('The version read from h1 "v3;reboot" does not match');
    expect(report.restarts).toEqual({ h1: 1, h2: 1, h3: 1 });
  });
});
