import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 2, subnet: 101, spinupMs: 150 });
});
afterAll(async () => {
  await fleet?.stop();
});

function ssh(hostIndex: number, command: string) {
  const host = fleet.hosts[hostIndex];
  if (host === undefined) throw new Error('no such host');
  return fleet.ssh(host, command);
}

describe('the test fleet', () => {
  it('restarts only the service of the host the command ran on, after its spin-up', async () => {
    const [first, second] = fleet.hosts as [Fleet['hosts'][number], Fleet['hosts'][number]];
    expect(await fleet.health(first)).toBe('200 ok v1');
    const monitor = new FleetMonitor(fleet.hosts);
    const { stdout } = await ssh(0, `${fleet.fleetctl} restart v2`);
    expect(stdout).toBe('restarting v2\n');
    expect(await fleet.health(first)).toBe('down');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await fleet.health(first)).toBe('200 ok v2');
    expect(await fleet.health(second)).toBe('200 ok v1');
    const report = await monitor.stop();
    expect(report.restarts).toEqual({ h1: 1, h2: 0 });
    expect(report.maxDown).toBe(1);
  });

  it('knows every time a host was down from its own journal, however short, and who was down with it', async () => {
    const monitor = new FleetMonitor(fleet.hosts);
    await ssh(0, `${fleet.fleetctl} stop`);
    await ssh(1, `${fleet.fleetctl} restart v3`);
    await ssh(0, `${fleet.fleetctl} restart v3`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await ssh(0, `${fleet.fleetctl} restart v1`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const report = await monitor.stop();
    expect(report.restarts).toEqual({ h1: 2, h2: 1 });
    expect(report.downOrder).toEqual(['h1', 'h2']);
    expect(report.maxDown).toBe(2);
    expect(report.downSets[0]).toEqual([]);
    expect(report.downSets.at(-1)).toEqual([]);
  });

  it('plays the behaviours tests need: never healthy, failing and hanging installs', async () => {
    await fleet.behave('v9', 'never-healthy');
    await ssh(1, `${fleet.fleetctl} restart v9`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await fleet.health(fleet.hosts[1] as Fleet['hosts'][number])).toBe('503 unhealthy v9');
    await fleet.behave('v8', 'install-fails');
    await expect(ssh(1, `${fleet.fleetctl} install v8`)).rejects.toMatchObject({
      code: 3,
      stderr: expect.stringContaining('checksum mismatch'),
    });
    await fleet.behave('v7', 'install-hangs');
    await expect(ssh(1, `timeout 1 ${fleet.fleetctl} install v7`)).rejects.toMatchObject({
      code: 124,
    });
  });

  it('refuses a client that does not know the host key', async () => {
    await expect(
      fleet.ssh(fleet.hosts[0] as Fleet['hosts'][number], 'true', '/dev/null'),
    ).rejects.toMatchObject({ code: 255 });
  });
});
