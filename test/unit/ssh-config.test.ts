import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SshConfigFile } from '../../src/adapters/ssh/ssh-config-file.js';
import { PlanSchema } from '../../src/core/rollout/index.js';
import { baton } from '../support/cli.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'baton-ssh-config-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const CONFIG = `# Read the way ssh reads it: the first value of a setting wins.
ServerAliveInterval 30

Host bastion
  HostName 127.0.0.5
  User ops
  Port 2222
  IdentityFile ~/.ssh/ops_key

Host web-* !web-9
  hostname %h.internal
  ProxyJump bastion
  IdentityFile keys/web
  IdentityFile keys/second
  ForwardAgent yes

Host legacy
  ProxyCommand nc %h %p

Host tokens
  HostName %r.example

Match host web-1
  ForwardX11 no
`;

async function configFile(text: string): Promise<SshConfigFile> {
  const path = join(scratch, 'config');
  await writeFile(path, text);
  return SshConfigFile.read(path, { home: '/home/me', localUser: 'me' });
}

describe('SshConfigFile', () => {
  it('gives HostName (with %h), User, Port, IdentityFile and ProxyJump of the Host blocks that match', async () => {
    const config = await configFile(CONFIG);
    expect(config.lookup('web-1')).toEqual({
      hostName: 'web-1.internal',
      identityFile: join(scratch, 'keys/web'),
      proxyJump: ['bastion'],
      refused: [],
      ignored: [
        'ServerAliveInterval (line 2)',
        'ForwardAgent (line 15)',
        'another IdentityFile (line 14)',
      ],
    });
    expect(config.lookup('bastion')).toMatchObject({
      hostName: '127.0.0.5',
      user: 'ops',
      port: 2222,
      identityFile: '/home/me/.ssh/ops_key',
    });
    expect(config.lookup('web-9')).toEqual({
      refused: [],
      ignored: ['ServerAliveInterval (line 2)'],
    });
  });

  it('refuses what would reach a host another way: ProxyCommand, a token it cannot expand', async () => {
    const config = await configFile(CONFIG);
    const file = join(scratch, 'config');
    expect(config.lookup('legacy').refused).toEqual([
      {
        message: `${file}:18: ProxyCommand nc %h %p applies to legacy, and baton does not run proxy commands`,
        hint: 'reach it with ProxyJump instead (or jump: in the playbook)',
      },
    ]);
    expect(config.lookup('tokens').refused).toEqual([
      {
        message: `${file}:21: HostName %r.example uses a % token baton does not expand`,
        hint: 'write the address, or use %h',
      },
    ]);
  });

  it('names a Match block it does not evaluate, and refuses one that would change the way to a host', async () => {
    expect((await configFile(CONFIG)).notes).toEqual([
      `${join(scratch, 'config')}: the Match block at line 23 is not used by baton`,
    ]);
    const routing = await configFile('Match host web-*\n  ProxyJump gw\n  User app\n');
    expect(routing.problems).toEqual([
      {
        message: 'the Match block at line 1 sets ProxyJump, User, and baton reads Host blocks only',
        hint: 'write it as a Host block',
      },
    ]);
  });

  it('refuses an Include, and a file it cannot read', async () => {
    expect((await configFile('Include config.d/*\nHost a\n  HostName b\n')).problems).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^Include \(line 1\) is not followed/),
      }),
    ]);
    const missing = await SshConfigFile.read(join(scratch, 'nope'));
    expect(missing.problems).toEqual([
      {
        message: 'cannot read it (ENOENT)',
        hint: 'fix ssh.config (relative to the playbook) or BATON_SSH_CONFIG',
      },
    ]);
  });
});

const PLAYBOOK = (ssh: string) => `service: web
ssh: { user: deploy${ssh} }
steps: [{ name: restart, run: 'restart {{version}}' }]
health: { http: { url: 'http://{{host}}:8080/health' } }
environments:
  prod:
    deployers: [U012ABCDEF]
    groups:
      - { name: all, hosts: [web-1, web-2] }
`;

describe('playbooks that name their hosts by ssh config alias', () => {
  beforeEach(async () => {
    await mkdir(join(scratch, 'playbooks'));
    await mkdir(join(scratch, 'ssh'));
    await writeFile(join(scratch, 'ssh', 'config'), CONFIG);
  });

  it('baton plan follows ssh.config, relative to the playbook, and shows the hops', async () => {
    await writeFile(join(scratch, 'playbooks', 'web.yml'), PLAYBOOK(', config: ../ssh/config'));
    const run = await baton(['plan', 'web', 'v2', '--playbooks', join(scratch, 'playbooks')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      '   hosts: web-1, web-2\n   through: ops@bastion (127.0.0.5:2222)\n',
    );
    const json = await baton([
      'plan',
      'web',
      'v2',
      '--json',
      '--playbooks',
      join(scratch, 'playbooks'),
    ]);
    const host = PlanSchema.parse(JSON.parse(json.stdout)).groups[0]?.hosts[0];
    expect(host).toMatchObject({
      name: 'web-1',
      address: 'web-1.internal',
      identityFile: join(scratch, 'ssh', 'keys/web'),
      jump: [
        {
          name: 'bastion',
          address: '127.0.0.5',
          port: 2222,
          user: 'ops',
          identityFile: expect.stringMatching(/\/\.ssh\/ops_key$/),
        },
      ],
    });
  });

  it('baton validate reads BATON_SSH_CONFIG and names every setting baton does not use', async () => {
    await writeFile(join(scratch, 'playbooks', 'web.yml'), PLAYBOOK(''));
    const run = await baton(['validate', join(scratch, 'playbooks')], {
      BATON_SSH_CONFIG: join(scratch, 'ssh', 'config'),
    });
    const file = join(scratch, 'ssh', 'config');
    const playbook = join(scratch, 'playbooks', 'web.yml');
    expect(run).toEqual({
      status: 0,
      stdout: '1 playbook valid: web\n',
      stderr: [
        `note: ${playbook}:2: ssh.config: ${file}: the Match block at line 23 is not used by baton`,
        `note: ${playbook}:2: ssh.config: ${file}: ServerAliveInterval (line 2) is not used by baton (it applies to web-1, bastion, web-2)`,
        `note: ${playbook}:2: ssh.config: ${file}: ForwardAgent (line 15) is not used by baton (it applies to web-1, web-2)`,
        `note: ${playbook}:2: ssh.config: ${file}: another IdentityFile (line 14) is not used by baton (it applies to web-1, web-2)`,
        '',
      ].join('\n'),
    });
  });

  it('baton validate refuses a host its ssh config reaches by ProxyCommand, naming both places', async () => {
    await writeFile(
      join(scratch, 'playbooks', 'web.yml'),
      PLAYBOOK(', config: ../ssh/config').replace('web-2]', 'legacy]'),
    );
    const run = await baton(['validate', join(scratch, 'playbooks')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `web.yml:9: environments.prod.groups[0].hosts[1]: ${join(scratch, 'ssh', 'config')}:18: ProxyCommand nc %h %p applies to legacy, and baton does not run proxy commands (reach it with ProxyJump instead (or jump: in the playbook))`,
    );
  });
});
