import { describe, expect, it } from 'vitest';
import {
  formatSourceProblem,
  parsePlaybookText,
  validatePlaybook,
  type Host,
  type SshConfigAnswer,
  type SshConfigView,
} from '../../src/core/playbook/index.js';
import { describePlan, PlanSchema } from '../../src/core/rollout/index.js';
import { planFor } from '../support/playbooks.js';

/** A playbook with the given ssh block and groups of environment `prod` (and `env` lines). */
function playbook(
  ssh: Record<string, unknown>,
  groups: Record<string, unknown>[],
  environment: Record<string, unknown> = {},
) {
  return {
    service: 'web',
    ssh: { user: 'deploy', ...ssh },
    steps: [{ name: 'restart', run: 'restart {{version}}' }],
    health: { http: { url: 'http://{{host}}:8080/health' } },
    environments: { prod: { ...environment, groups } },
  };
}

function hostsOf(document: unknown, sshConfig?: SshConfigView): Host[] {
  const result = validatePlaybook(document, sshConfig === undefined ? {} : { sshConfig });
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.playbook.environments[0]?.groups.flatMap((group) => group.hosts) ?? [];
}

function problemsOf(document: unknown, sshConfig?: SshConfigView): string[] {
  const result = validatePlaybook(document, sshConfig === undefined ? {} : { sshConfig });
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(
    (p) => `${p.path}: ${p.message}${p.hint === undefined ? '' : ` (${p.hint})`}`,
  );
}

/** What a config file said, as the file reader hands it over: name by name. */
function sshConfig(answers: Record<string, Partial<SshConfigAnswer>>): SshConfigView {
  return {
    file: '/home/me/.ssh/config',
    problems: [],
    notes: [],
    lookup: (name) => ({ refused: [], ignored: [], ...answers[name] }),
  };
}

const hop = (name: string, port = 22, user = 'deploy', address = name) => ({
  name,
  address,
  port,
  user,
});

describe('ssh.jump', () => {
  it('takes the most specific level: host, group, environment, playbook', () => {
    const hosts = hostsOf(
      playbook(
        { jump: 'ops@outer.example:2200' },
        [
          { name: 'inherit', hosts: ['a1'] },
          {
            name: 'own',
            ssh: { jump: ['gw1.example', 'jump@gw2.example'] },
            hosts: [
              'b1',
              { address: 'b2', jump: 'none' },
              { address: 'b3', jump: 'solo.example:2022', user: 'app' },
            ],
          },
        ],
        { ssh: { jump: 'env-bastion' } },
      ),
    );
    expect(hosts).toEqual([
      { name: 'a1', address: 'a1', port: 22, jump: [hop('env-bastion')] },
      {
        name: 'b1',
        address: 'b1',
        port: 22,
        jump: [hop('gw1.example'), hop('gw2.example', 22, 'jump')],
      },
      { name: 'b2', address: 'b2', port: 22 },
      { name: 'b3', address: 'b3', port: 22, user: 'app', jump: [hop('solo.example', 2022)] },
    ]);
  });

  it("uses the playbook's jump where nothing closer says otherwise; a hop's user is ssh.user and its port 22", () => {
    const hosts = hostsOf(
      playbook({ user: 'svc', port: 2222, jump: 'bastion' }, [{ name: 'all', hosts: ['a1'] }]),
    );
    expect(hosts).toEqual([
      { name: 'a1', address: 'a1', port: 2222, jump: [hop('bastion', 22, 'svc')] },
    ]);
  });

  it.each([
    ['a host that is not one', 'bad host!', /ssh\.jump: a jump host is 'user@host:port'/],
    ['none inside a list', ['gw', 'none'], /ssh\.jump\[1\]: .*'none' stands alone/],
    ['an empty list', [], /ssh\.jump: list at least one hop, or write 'none'/],
    ['a user that is not one', 'bad user@gw', /ssh\.jump: a jump host is/],
  ])('refuses %s, naming where', (_, jump, expected) => {
    expect(problemsOf(playbook({ jump }, [{ name: 'all', hosts: ['a1'] }])).join('\n')).toMatch(
      expected,
    );
  });

  it('refuses a jump on a host written as text, pointing at the object form', () => {
    const result = parsePlaybookText(
      [
        'service: web',
        'steps: [{ name: restart, run: restart }]',
        'health: { tcp: { port: 80 } }',
        'environments:',
        '  prod:',
        '    groups:',
        '      - { name: all, hosts: [{ address: a1, jumps: gw }] }',
      ].join('\n'),
      'web.yml',
    );
    expect(result.ok ? [] : result.problems.map(formatSourceProblem)).toEqual([
      "web.yml:7: environments.prod.groups[0].hosts[0].jumps: unknown key 'jumps' (did you mean 'jump'?)",
    ]);
  });
});

describe('hosts named in an ssh config', () => {
  const config = sshConfig({
    web1: {
      hostName: '10.0.1.5',
      port: 2200,
      user: 'app',
      identityFile: '/keys/web',
      proxyJump: ['bastion'],
    },
    bastion: { hostName: '192.0.2.10', user: 'ops', port: 2222, identityFile: '/keys/ops' },
    web2: { hostName: '10.0.1.6' },
  });

  it('take HostName, Port, User, IdentityFile and ProxyJump from it; the host keeps its alias as name', () => {
    const hosts = hostsOf(
      playbook({}, [{ name: 'all', hosts: ['web1', 'web2', 'web3.example'] }]),
      config,
    );
    expect(hosts).toEqual([
      {
        name: 'web1',
        address: '10.0.1.5',
        port: 2200,
        user: 'app',
        identityFile: '/keys/web',
        jump: [
          {
            name: 'bastion',
            address: '192.0.2.10',
            port: 2222,
            user: 'ops',
            identityFile: '/keys/ops',
          },
        ],
      },
      { name: 'web2', address: '10.0.1.6', port: 22 },
      { name: 'web3.example', address: 'web3.example', port: 22 },
    ]);
  });

  it("count as the host's own: above its group's jump, below what the host entry says", () => {
    const hosts = hostsOf(
      playbook({}, [
        {
          name: 'all',
          ssh: { jump: 'other-gw' },
          hosts: [
            'web1',
            'web1:2201',
            { address: 'web1', name: 'direct', port: 2202, jump: 'none' },
          ],
        },
      ]),
      config,
    );
    expect(hosts.map((host) => [host.name, host.port, host.jump?.map((j) => j.name)])).toEqual([
      ['web1', 2200, ['bastion']],
      ['web1:2201', 2201, ['bastion']],
      ['direct', 2202, undefined],
    ]);
  });

  it('resolve a hop written in the playbook, reaching the first hop through its own ProxyJump', () => {
    const chained = sshConfig({
      inner: { hostName: '10.9.0.2', proxyJump: ['outer'] },
      outer: { hostName: '192.0.2.1', user: 'edge' },
      second: { hostName: '10.9.0.3', proxyJump: ['ignored-for-a-later-hop'] },
    });
    const hosts = hostsOf(
      playbook({ jump: ['inner', 'second'] }, [{ name: 'all', hosts: ['a1'] }]),
      chained,
    );
    expect(hosts[0]?.jump).toEqual([
      hop('outer', 22, 'edge', '192.0.2.1'),
      hop('inner', 22, 'deploy', '10.9.0.2'),
      hop('second', 22, 'deploy', '10.9.0.3'),
    ]);
  });

  it('refuses a ProxyJump that leads back to itself, and says how to break the loop', () => {
    const looping = sshConfig({ a1: { proxyJump: ['gw'] }, gw: { proxyJump: ['gw'] } });
    expect(problemsOf(playbook({}, [{ name: 'all', hosts: ['a1'] }]), looping)).toEqual([
      'environments.prod.groups[0].hosts[0]: the jump hosts lead back to themselves: a1 → gw → gw (in /home/me/.ssh/config, keep gw out of the Host pattern whose ProxyJump names it (e.g. Host * !gw))',
    ]);
  });

  it('refuses what the file reader refused for a host, at that host', () => {
    const refusing = sshConfig({
      a1: { refused: [{ message: 'ProxyCommand nc %h %p applies to a1', hint: 'use ProxyJump' }] },
    });
    expect(problemsOf(playbook({}, [{ name: 'all', hosts: ['a2', 'a1'] }]), refusing)).toEqual([
      'environments.prod.groups[0].hosts[1]: ProxyCommand nc %h %p applies to a1 (use ProxyJump)',
    ]);
  });

  it('names the settings baton does not use once each, with the hosts they apply to', () => {
    const noisy = sshConfig({
      a1: { ignored: ['ServerAliveInterval (line 3)'] },
      a2: { ignored: ['ServerAliveInterval (line 3)', 'ForwardAgent (line 9)'] },
    });
    const result = validatePlaybook(playbook({}, [{ name: 'all', hosts: ['a1', 'a2'] }]), {
      sshConfig: noisy,
    });
    expect(result.ok && result.notes.map((note) => `${note.path}: ${note.message}`)).toEqual([
      'ssh.config: /home/me/.ssh/config: ServerAliveInterval (line 3) is not used by baton (it applies to a1, a2)',
      'ssh.config: /home/me/.ssh/config: ForwardAgent (line 9) is not used by baton (it applies to a2)',
    ]);
  });
});

describe('plans of hosts behind jump hosts', () => {
  const document = playbook({ jump: 'ops@gw.example:2222' }, [
    { name: 'canary', hosts: ['a1'] },
    { name: 'rest', hosts: ['a2', { address: 'a3', jump: 'none', user: 'app' }] },
  ]);
  const plan = () => {
    const result = validatePlaybook(document);
    if (!result.ok) throw new Error('invalid');
    return planFor(result.playbook, { service: 'web' });
  };

  it('carry each host’s hops, user and key, and survive a checkpoint', () => {
    const planned = plan();
    expect(planned.groups[1]?.hosts.map(({ name, user, jump }) => ({ name, user, jump }))).toEqual([
      { name: 'a2', user: undefined, jump: [hop('gw.example', 2222, 'ops')] },
      { name: 'a3', user: 'app', jump: undefined },
    ]);
    expect(PlanSchema.parse(JSON.parse(JSON.stringify(planned)))).toEqual(planned);
  });

  it('still read from a checkpoint written before hosts had hops', () => {
    const planned = plan();
    const older = JSON.parse(JSON.stringify(planned)) as { groups: { hosts: object[] }[] };
    for (const group of older.groups)
      group.hosts = group.hosts.map((host) => {
        const { jump: _jump, user: _user, ...rest } = host as Record<string, unknown>;
        return rest;
      });
    expect(PlanSchema.safeParse(older).success).toBe(true);
  });

  it('show the hops in `baton plan`, and where network health checks are sent from', () => {
    const text = describePlan(plan());
    expect(text).toContain(
      '1. canary: 1 host, 1 at a time\n   hosts: a1\n   through: ops@gw.example:2222\n',
    );
    expect(text).toContain(
      '   hosts: a2, a3 (as app)\n   through ops@gw.example:2222: a2\n   directly: a3\n',
    );
    expect(text).toContain('GET http://a1:8080/health expects 200, sent from gw.example over SSH');
  });
});
