import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { baton } from '../support/cli.js';

let fleet: Fleet;
let host: FleetHost;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 1, ipv6: true, spinupMs: 100 });
  host = fleet.hosts[0] as FleetHost;
  await fleet.writePlaybook({ groups: [{ hosts: [0] }] });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('a host on IPv6', () => {
  it('is written [::1]:port, reached over SSH, and health-checked at http://[::1]:port/', async () => {
    const playbook = await readFile(join(fleet.playbooksDir, 'fleet.yml'), 'utf8');
    expect(playbook).toContain(`hosts: ['[::1]:${host.sshPort}']`);
    expect(await fleet.health(host)).toBe('200 ok v1');
    const plan = await baton(['plan', 'fleet', 'v2', '--env', 'test', '--json'], fleet.env());
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain(`"url": "http://[::1]:${host.httpPort}/health"`);

    const run = await baton(
      ['deploy', 'fleet', 'v2', '--env', 'test', '--previous', 'v1', '--yes'],
      fleet.env(),
    );
    expect(run.stderr).not.toContain('failed');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/done: fleet v2 is on every host of test/);
    expect(await fleet.health(host)).toBe('200 ok v2');
  });
});
