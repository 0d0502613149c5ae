import { describe, expect, it } from 'vitest';
import {
  formatSourceProblem,
  parsePlaybookText,
  readInventory,
  withInventories,
  type Playbook,
} from '../../src/core/playbook/index.js';
import {
  applyInventoryChanges,
  describeInventoryChanges,
  describePlan,
  planRollout,
  type Plan,
} from '../../src/core/rollout/index.js';

const playbookText = (groups: string, extra = '') => `
service: web
ssh: { user: deploy, port: 2200${extra} }
steps:
  - { name: restart, run: systemctl restart web }
health:
  tcp: { port: 8080 }
environments:
  production:
    groups:
${groups}
`;

function valid(groups: string, extra = ''): Playbook {
  const result = parsePlaybookText(playbookText(groups, extra), 'web.yml');
  if (!result.ok) throw new Error(result.problems.map(formatSourceProblem).join('\n'));
  return result.playbook;
}

function problems(groups: string): string {
  const result = parsePlaybookText(playbookText(groups), 'web.yml');
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(formatSourceProblem).join('\n');
}

const INVENTORY_GROUPS = `      - { name: canary, hosts: [web-01] }
      - name: rest
        hosts_from: { command: ./list-hosts web, timeout: 10s }
        parallel: 3`;

describe('hosts_from in the playbook', () => {
  it('takes a command and a timeout (default 30s), and leaves the hosts to be listed', () => {
    const group = valid(INVENTORY_GROUPS).environments[0]?.groups[1];
    expect(group).toMatchObject({
      name: 'rest',
      hosts: [],
      inventory: { command: './list-hosts web', timeoutMs: 10_000 },
    });
    expect(
      valid('      - { name: all, hosts_from: { command: ./list } }').environments[0]?.groups[0]
        ?.inventory,
    ).toEqual({ command: './list', timeoutMs: 30_000 });
  });

  it('gives the listed hosts the jump hosts the group inherits', () => {
    const group = valid(INVENTORY_GROUPS, ', jump: ops@bastion:2222').environments[0]?.groups[1];
    expect(group?.inventory?.jump).toEqual([
      { name: 'bastion', address: 'bastion', port: 2222, user: 'ops' },
    ]);
  });

  it.each([
    [
      '      - { name: a, hosts: [web-01], hosts_from: { command: ./list } }',
      /hosts_from: give hosts or hosts_from, not both/,
    ],
    ['      - { name: a }', /a group needs hosts.*hosts_from: \{ command/],
    ['      - { name: a, hosts_from: { command: "  " } }', /give the command that lists the hosts/],
    ['      - { name: a, hosts_from: { run: ./list } }', /hosts_from/],
    [
      '      - { name: a, hosts_from: { command: ./list, timeout: 2h } }',
      /inventory timeout of 2h is out of range; use between 1s and 10m/,
    ],
    [
      '      - { name: a, hosts_from: ./list }',
      /environments\.production\.groups\[0\]\.hosts_from/,
    ],
  ])('refuses %s', (groups, message) => {
    expect(problems(groups)).toMatch(message);
  });

  it('is not run to be validated, and cannot be planned before it is run', () => {
    const result = planRollout(
      valid(INVENTORY_GROUPS),
      { kind: 'deploy', service: 'web', version: 'v2', previousVersion: null },
      1,
    );
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'inventory_not_run',
        message:
          'group rest lists its hosts with hosts_from, which has not been run for this plan.',
      },
    });
  });
});

describe('what an inventory printed', () => {
  const inventory = { command: './list', timeoutMs: 1000 };
  const ssh = { user: 'deploy', port: 2200 };

  it('reads one host per line, skipping blank lines and comments', () => {
    expect(readInventory('# fleet\nweb-02\n\n  web-03:2222  \n10.0.0.7\n', inventory, ssh)).toEqual(
      {
        ok: true,
        hosts: [
          { name: 'web-02', address: 'web-02', port: 2200 },
          { name: 'web-03:2222', address: 'web-03', port: 2222 },
          { name: '10.0.0.7', address: '10.0.0.7', port: 2200 },
        ],
      },
    );
  });

  it('reads a JSON array of host objects, as a playbook writes them', () => {
    const output = JSON.stringify([
      { address: '10.0.0.5', name: 'web-05', user: 'app' },
      { address: '10.0.0.6', port: 2201, jump: 'ops@edge:22' },
      'web-07',
      { address: '10.0.0.8', jump: 'none' },
    ]);
    const jumped = { ...inventory, jump: [{ name: 'b', address: 'b', port: 22, user: 'ops' }] };
    expect(readInventory(output, jumped, ssh)).toEqual({
      ok: true,
      hosts: [
        { name: 'web-05', address: '10.0.0.5', port: 2200, user: 'app', jump: jumped.jump },
        {
          name: '10.0.0.6:2201',
          address: '10.0.0.6',
          port: 2201,
          jump: [{ name: 'edge', address: 'edge', port: 22, user: 'ops' }],
        },
        { name: 'web-07', address: 'web-07', port: 2200, jump: jumped.jump },
        { name: '10.0.0.8', address: '10.0.0.8', port: 2200 },
      ],
    });
  });

  it.each([
    ['', 'it printed no hosts'],
    ['\n# nothing yet\n', 'it printed no hosts'],
    ['[]', 'it printed no hosts'],
    ['[{"address": "a",', /^its output starts with \[ but is not JSON: /],
    ['web-01\nweb 02\n', /^host 2 \("web 02"\) is not a host: print a hostname or IP/],
    ['[{"address": "a; rm -rf /"}]', /^host 1 \(\{"address":"a; rm -rf \/"\}\) is not a host/],
    ['[{"address": "a", "role": "db"}]', /^host 1 .* is not a host/],
    ['web-01\nweb-01\n', 'it lists web-01 twice'],
    ['web-01\nweb-01:2200\n', 'it lists web-01 and web-01:2200, the same host (web-01:2200)'],
    [
      '[{"address": "10.0.0.5", "name": "a"}, {"address": "10.0.0.5", "name": "b"}]',
      'it lists a and b, the same host (10.0.0.5:2200)',
    ],
  ])('refuses %j', (output, message) => {
    const read = readInventory(output, inventory, ssh);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    if (typeof message === 'string') expect(read.message).toBe(message);
    else expect(read.message).toMatch(message);
  });

  it('refuses a host an inventory lists that another group has too', () => {
    const playbook = valid(INVENTORY_GROUPS);
    const environment = playbook.environments[0] as Playbook['environments'][number];
    const listed = readInventory('web-09\nweb-01\n', inventory, ssh);
    if (!listed.ok) throw new Error(listed.message);
    expect(withInventories(playbook, environment, new Map([['rest', listed.hosts]]))).toEqual({
      ok: false,
      message:
        "web-01 is in group canary and in group rest's inventory; a host belongs to one group",
    });
  });
});

describe('the same machine under two names', () => {
  it('is refused when an inventory lists a host another group has, with its port written', () => {
    const playbook = valid(INVENTORY_GROUPS);
    const environment = playbook.environments[0] as Playbook['environments'][number];
    const listed = readInventory(
      'web-09\nweb-01:2200\n',
      { command: './list', timeoutMs: 1000 },
      { user: 'deploy', port: 2200 },
    );
    if (!listed.ok) throw new Error(listed.message);
    expect(withInventories(playbook, environment, new Map([['rest', listed.hosts]]))).toEqual({
      ok: false,
      message:
        "web-01:2200 is in group canary and in group rest's inventory; a host belongs to one group",
    });
  });

  it('is not the same machine behind another jump host', () => {
    const output = JSON.stringify([
      { address: '10.0.0.5', name: 'east-5', jump: 'ops@east:22' },
      { address: '10.0.0.5', name: 'west-5', jump: 'ops@west:22' },
    ]);
    const read = readInventory(
      output,
      { command: './list', timeoutMs: 1000 },
      { user: 'deploy', port: 2200 },
    );
    expect(read.ok).toBe(true);
  });
});

describe('an inventory that changed by the time the rollout starts', () => {
  function planned(lines: string): Plan {
    const playbook = valid(INVENTORY_GROUPS);
    const environment = playbook.environments[0] as Playbook['environments'][number];
    const listed = readInventory(
      lines,
      { command: './list', timeoutMs: 1000 },
      {
        user: 'deploy',
        port: 2200,
      },
    );
    if (!listed.ok) throw new Error(listed.message);
    const filled = withInventories(playbook, environment, new Map([['rest', listed.hosts]]));
    if (!filled.ok) throw new Error(filled.message);
    const result = planRollout(
      filled.playbook,
      { kind: 'deploy', service: 'web', version: 'v2', previousVersion: 'v1' },
      1,
    );
    if (!result.ok) throw new Error(result.error.message);
    return result.plan;
  }

  it('keeps the plan as it is when the same hosts are listed', () => {
    const plan = planned('web-02\nweb-03\n');
    expect(applyInventoryChanges(plan, new Map([['rest', ['web-03', 'web-02']]]))).toEqual({
      plan,
      changes: [],
    });
  });

  it('leaves out hosts gone from it, names new ones without deploying to them', () => {
    const plan = planned('web-02\nweb-03\nweb-04\n');
    expect(plan.groups[1]?.parallel).toBe(3);
    const { plan: started, changes } = applyInventoryChanges(
      plan,
      new Map([['rest', ['web-02', 'web-05']]]),
    );
    expect(changes).toEqual([{ group: 'rest', added: ['web-05'], removed: ['web-03', 'web-04'] }]);
    expect(started.groups.map((group) => group.hosts.map((host) => host.name))).toEqual([
      ['web-01'],
      ['web-02'],
    ]);
    expect(started.groups[1]?.parallel).toBe(1);
    expect(started.notUpdated).toEqual([
      { host: 'web-03', group: 'rest', detail: 'no longer listed by its inventory' },
      { host: 'web-04', group: 'rest', detail: 'no longer listed by its inventory' },
    ]);
    expect(describeInventoryChanges(changes)).toEqual([
      'inventory of rest changed since the plan: no longer listed (not updated): web-03, web-04; newly listed (not in the approved plan, not deployed to): web-05',
    ]);
  });

  it('drops a group its inventory no longer lists any planned host of', () => {
    const { plan } = applyInventoryChanges(planned('web-02\n'), new Map([['rest', ['web-08']]]));
    expect(plan.groups.map((group) => group.name)).toEqual(['canary']);
  });

  it('shows in the plan where the hosts came from', () => {
    expect(describePlan(planned('web-02\n'))).toContain(
      '   listed by: ./list-hosts web (run again when the rollout starts)',
    );
  });
});
