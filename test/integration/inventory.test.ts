import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';

/**
 * hosts_from against real sshd hosts: group g1 is written in the playbook (h1), group g2 lists
 * its hosts with a script the test rewrites, run by baton when it plans and when it starts.
 */

let fleet: Fleet;
const host = (index: number) => fleet.hosts[index] as FleetHost;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 4, subnet: 142, spinupMs: 100 });
});
afterAll(async () => {
  await fleet?.stop();
});

/** A playbook `service` whose group g2 is listed by `script` (a shell script, written as given). */
async function inventoryPlaybook(service: string, script: string): Promise<string> {
  await fleet.writePlaybook({
    service,
    groups: [{ hosts: [0] }, { hosts: [1] }],
    healthTimeout: '5s',
    stepTimeout: '5s',
  });
  const path = join(fleet.playbooksDir, `${service}.yml`);
  const command = join(fleet.dir, `${service}-inventory.sh`);
  await writeFile(command, `#!/bin/sh\n${script}\n`);
  await chmod(command, 0o755);
  const text = await readFile(path, 'utf8');
  const g2 = text.split('\n').find((line) => line.includes('name: g2')) as string;
  await writeFile(
    path,
    text.replace(g2, `      - { name: g2, hosts_from: { command: '${command}', timeout: 5s } }`),
  );
  return command;
}

async function versions(): Promise<string[]> {
  return Promise.all(
    fleet.hosts.map(async (each: FleetHost) => (await fleet.health(each)).replace('200 ok ', '')),
  );
}

async function deploy(service: string, version: string, previous: string) {
  const monitor = new FleetMonitor(fleet.hosts);
  const run = await baton(
    ['deploy', service, version, '--env', 'test', '--previous', previous, '--yes'],
    fleet.env(),
  );
  return { ...run, report: await monitor.stop() };
}

describe('hosts_from', () => {
  it('one host per line: baton validate does not run it, baton plan and deploy do', async () => {
    const command = await inventoryPlaybook(
      'lines',
      `echo run >> "$0.runs"; printf '# web tier\\n${host(1).address}\\n\\n${host(2).address}\\n'`,
    );
    const validated = await baton(['validate', fleet.playbooksDir], fleet.env());
    expect(validated.status).toBe(0);
    await expect(readFile(`${command}.runs`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    const planned = await baton(['plan', 'lines', 'v2', '--env', 'test'], fleet.env());
    expect(planned.stderr).toBe('');
    expect(planned.stdout).toContain(
      `   hosts: ${host(1).address} (port 2222), ${host(2).address} (port 2222)`,
    );
    expect(planned.stdout).toContain(
      `   listed by: ${command} (run again when the rollout starts)`,
    );

    const run = await deploy('lines', 'v2', 'v1');
    expect(run.status).toBe(0);
    expect(await versions()).toEqual(['v2', 'v2', 'v2', 'v1']);
    expect(run.report.restarts).toEqual({ h1: 1, h2: 1, h3: 1, h4: 0 });
    // Once for the plan, once for the deploy's request, once as its rollout started.
    expect((await readFile(`${command}.runs`, 'utf8')).trim().split('\n')).toHaveLength(3);
  });

  it('a JSON array of host objects, with their names', async () => {
    const hosts = [
      { address: host(2).address, name: 'web-b' },
      { address: host(3).address, name: 'web-c', port: 2222 },
    ];
    await inventoryPlaybook('json', `echo '${JSON.stringify(hosts)}'`);
    const run = await deploy('json', 'v3', 'v2');
    expect(run.status).toBe(0);
    expect(await versions()).toEqual(['v3', 'v2', 'v3', 'v3']);
    expect(run.stdout).toContain('g2: starting (2 hosts, 1 at a time)');
    expect(run.stdout).toContain('g2 web-c: healthy');
  });

  it.each([
    [
      'fails',
      'echo "listing web hosts" ; echo "cloud API: token expired" >&2; exit 3',
      /cannot be planned: the inventory of group g2 \(hosts_from: \S+\) failed \(exit 3\): cloud API: token expired/,
    ],
    ['prints nothing', 'true', /cannot be used: it printed no hosts\./],
    [
      'times out',
      'sleep 30',
      /did not finish within 5s and was stopped\. Raise hosts_from\.timeout/,
    ],
    ['prints no host', 'echo "web 01"', /host 1 \("web 01"\) is not a host/],
  ])(
    'an inventory that %s refuses the deploy before any host is touched',
    async (_, script, message) => {
      await inventoryPlaybook('broken', script);
      const before = await versions();
      const run = await deploy('broken', 'v9', 'v3');
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain('Nothing was started.');
      expect(Object.values(run.report.restarts)).toEqual([0, 0, 0, 0]);
      expect(await versions()).toEqual(before);
    },
  );

  it('changed between the request and the start: the gone host is left out, the new one named', async () => {
    // The first run (the request's plan) lists h2 and h3; every later one h2 and h4.
    await inventoryPlaybook(
      'moving',
      [
        'count=$(cat "$0.count" 2>/dev/null || echo 0); echo $((count + 1)) > "$0.count"',
        `if [ "$count" = 0 ]; then printf '${host(1).address}\\n${host(2).address}\\n';`,
        `else printf '${host(1).address}\\n${host(3).address}\\n'; fi`,
      ].join('\n'),
    );
    const before = await versions();
    const run = await deploy('moving', 'v4', before[0] as string);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      `inventory of g2 changed since the plan: no longer listed (not updated): ${host(2).address}; newly listed (not in the approved plan, not deployed to): ${host(3).address}`,
    );
    expect(run.stdout).toContain(
      `not updated: ${host(2).address} (g2), no longer listed by its inventory`,
    );
    expect(await versions()).toEqual(['v4', 'v4', before[2], before[3]]);
    expect(run.report.restarts).toEqual({ h1: 1, h2: 1, h3: 0, h4: 0 });
  });
});
