import { execFile } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetworkHealthProbe } from '../../src/adapters/health/network-health-probe.js';
import { SshExecutor } from '../../src/adapters/ssh/ssh-executor.js';
import { ConnectionError, type HostTarget } from '../../src/app/ports.js';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { Bastion, Netns } from '../fleet/netns.js';
import { baton } from '../support/cli.js';

/**
 * The hosts and their services run in a network namespace of their own: from here nothing of
 * theirs can be reached. The inner bastion runs in that namespace too and answers here at
 * INNER_GW, so every step, health check and rollback that reaches a host went through it. The
 * edge bastion runs in a second namespace, where alone the inner bastion also answers (at
 * INNER_FROM_EDGE): the two-hop chain.
 */
const run = promisify(execFile);
const INNER_GW = '127.121.0.1';
const EDGE_GW = '127.121.0.2';
const INNER_FROM_EDGE = '127.121.0.3';
const tag = `baton-jump-${process.pid}`;

let inner: Netns | undefined;
let edge: Netns | undefined;
let fleet: Fleet;
let innerGw: Bastion | undefined;
let edgeGw: Bastion | undefined;
const logs = { inner: '', edge: '', innerFromEdge: '' };

beforeAll(async () => {
  inner = await Netns.create(`${tag}-inner`);
  edge = await Netns.create(`${tag}-edge`);
  fleet = await Fleet.start({ hosts: 3, subnet: 121, netns: inner.name, spinupMs: 100 });
  const authorizedKeys = join(fleet.dir, 'authorized_keys');
  innerGw = await Bastion.create({
    dir: fleet.dir,
    name: 'inner-gw',
    netns: inner,
    authorizedKeys,
  });
  edgeGw = await Bastion.create({ dir: fleet.dir, name: 'edge-gw', netns: edge, authorizedKeys });
  logs.inner = await innerGw.listen(INNER_GW, 2222);
  logs.edge = await edgeGw.listen(EDGE_GW, 2222);
  logs.innerFromEdge = await innerGw.listen(INNER_FROM_EDGE, 2222, edge);
  await appendFile(
    fleet.knownHostsPath,
    [
      innerGw.knownHostsLine(INNER_GW, 2222),
      edgeGw.knownHostsLine(EDGE_GW, 2222),
      innerGw.knownHostsLine(INNER_FROM_EDGE, 2222),
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await innerGw?.stop();
  await edgeGw?.stop();
  await fleet?.stop();
  await edge?.remove();
  await inner?.remove();
});

/** The version each host's service serves now, from its own journal (reachable or not). */
async function versions(): Promise<string[]> {
  return Promise.all(
    fleet.hosts.map(async (host: FleetHost) => {
      const last = (await readFile(host.journal, 'utf8')).trim().split('\n').at(-1) ?? '{}';
      const entry = JSON.parse(last) as { serving: boolean; version: string };
      return `${entry.serving ? 'serving' : 'down'} ${entry.version}`;
    }),
  );
}

const logins = () =>
  Promise.all([logs.inner, logs.edge, logs.innerFromEdge].map((log) => Bastion.logins(log)));

/** `baton deploy` while the monitor watches; with the logins each bastion listener saw meanwhile. */
async function deploy(
  service: string,
  version: string,
  previous: string,
  env: Record<string, string> = {},
) {
  const before = await logins();
  const monitor = new FleetMonitor(fleet.hosts);
  const result = await baton(
    ['deploy', service, version, '--env', 'test', '--previous', previous, '--yes'],
    { ...fleet.env(), ...env },
  );
  const report = await monitor.stop();
  const after = await logins();
  const [inner, edge, innerFromEdge] = after.map((count, index) => count - (before[index] ?? 0));
  return { ...result, report, logins: { inner, edge, innerFromEdge } };
}

const GROUPS = [{ hosts: [0] }, { hosts: [1, 2], parallel: 2 }];

describe('hosts behind a bastion', () => {
  let executor: SshExecutor | undefined;
  afterEach(async () => {
    await executor?.close();
  });

  const target = (index: number, jump?: HostTarget['jump']): HostTarget => {
    const host = fleet.hosts[index] as FleetHost;
    return {
      name: host.name,
      address: host.address,
      port: 2222,
      user: 'root',
      ...(jump === undefined ? {} : { jump }),
    };
  };
  const viaInner = [{ name: 'inner-gw', address: INNER_GW, port: 2222, user: 'root' }];

  it('cannot be reached from here at all: not over SSH, not their health endpoint', async () => {
    executor = new SshExecutor({
      knownHostsPath: fleet.knownHostsPath,
      privateKeyPath: fleet.clientKeyPath,
    });
    const error = await executor.connect(target(0)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain('ECONNREFUSED');
    const health = await fetch(`http://${fleet.hosts[0]?.address}:8080/health`).catch(
      (caught: Error) => caught,
    );
    expect(health).toBeInstanceOf(Error);
  });

  it('runs commands and health checks through one SSH session to the bastion', async () => {
    executor = new SshExecutor({
      knownHostsPath: fleet.knownHostsPath,
      privateKeyPath: fleet.clientKeyPath,
    });
    const [before] = await logins();
    const probe = new NetworkHealthProbe(executor, executor);
    const signal = new AbortController().signal;
    const where = await Promise.all(
      [0, 1, 2].map((index) =>
        executor?.run(target(index, viaInner), 'echo $FLEET_ADDRESS', { timeoutMs: 5000 }),
      ),
    );
    expect(where.map((result) => result?.stdoutTail.trim())).toEqual(
      fleet.hosts.map((host) => host.address),
    );
    const address = fleet.hosts[1]?.address ?? '';
    const checks = await Promise.all([
      probe.check(
        {
          kind: 'http',
          url: `http://${address}:8080/health`,
          status: 200,
          bodyContains: 'ok v',
          requestTimeoutMs: 2000,
        },
        target(1, viaInner),
        signal,
      ),
      probe.check(
        { kind: 'tcp', address, port: 8080, connectTimeoutMs: 2000 },
        target(1, viaInner),
        signal,
      ),
      probe.check(
        { kind: 'tcp', address, port: 8099, connectTimeoutMs: 2000 },
        target(1, viaInner),
        signal,
      ),
      probe.check(
        {
          kind: 'http',
          url: `http://${address}:8080/health`,
          status: 200,
          bodyContains: 'v999',
          requestTimeoutMs: 2000,
        },
        target(1, viaInner),
        signal,
      ),
    ]);
    expect(checks).toEqual([
      // The body comes back too, through the bastion: a host's version may be read from it.
      { healthy: true, detail: 'HTTP 200', body: expect.stringMatching(/^ok v\d/) },
      { healthy: true, detail: 'port open' },
      { healthy: false, detail: 'connection refused' },
      {
        healthy: false,
        detail: expect.stringMatching(/^HTTP 200 but the body lacks "v999": ok v/),
        body: expect.stringMatching(/^ok v\d/),
      },
    ]);
    const [after] = await logins();
    expect((after ?? 0) - (before ?? 0)).toBe(1);
  });

  it('never reuses a kept login behind the bastion once the bastion key is replaced', async () => {
    const known = join(fleet.dir, 'known_hosts.replaced-bastion');
    const lines = (await readFile(fleet.knownHostsPath, 'utf8')).trim().split('\n');
    await writeFile(known, `${lines.join('\n')}\n`);
    executor = new SshExecutor({ knownHostsPath: known, privateKeyPath: fleet.clientKeyPath });
    const first = await executor.run(target(0, viaInner), 'echo $FLEET_ADDRESS', {
      timeoutMs: 5000,
    });
    expect(first.exitCode).toBe(0);
    const impostor = edgeGw?.publicKey ?? '';
    await writeFile(
      known,
      lines
        .map((line) =>
          line.startsWith(`[${INNER_GW}]:2222 `) ? `[${INNER_GW}]:2222 ${impostor}` : line,
        )
        .join('\n'),
    );
    const error = await executor
      .run(target(0, viaInner), 'echo again', { timeoutMs: 5000 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('host_key_mismatch');
    expect((error as ConnectionError).message).toContain(
      `The host key of jump host inner-gw (${INNER_GW}:2222) does not match`,
    );
    expect(executor.openLogins()).toEqual([]);
  });

  it('deploys group by group through the bastion, and baton plan shows the way', async () => {
    await fleet.writePlaybook({ groups: GROUPS, jump: `'root@${INNER_GW}:2222'` });
    const plan = await baton(['plan', 'fleet', 'v2', '--env', 'test'], fleet.env());
    expect(plan.stdout).toContain(
      `   hosts: h2 (port 2222), h3 (port 2222)\n   through: root@${INNER_GW}:2222\n`,
    );
    expect(plan.stdout).toContain(`, sent from ${INNER_GW} over SSH`);
    const { status, stderr, report, logins: seen } = await deploy('fleet', 'v2', 'v1');
    expect(stderr).not.toContain('cannot be used');
    expect(status).toBe(0);
    expect(await versions()).toEqual(Array(3).fill('serving v2'));
    expect(report.restarts).toEqual({ h1: 1, h2: 1, h3: 1 });
    // One login to the bastion carried the connections to all three hosts.
    expect(seen).toEqual({ inner: 1, edge: 0, innerFromEdge: 0 });
  });

  it('rolls a group back through the bastion when its health check fails', async () => {
    await fleet.writePlaybook({
      groups: GROUPS,
      jump: `'root@${INNER_GW}:2222'`,
      healthTimeout: '2s',
    });
    await fleet.behave('v3', 'never-healthy');
    const { status, stdout, report, logins: seen } = await deploy('fleet', 'v3', 'v2');
    expect(status).toBe(3);
    expect(stdout).toContain('g1: rolled back and healthy');
    expect(await versions()).toEqual(Array(3).fill('serving v2'));
    expect(report.restarts).toEqual({ h1: 1, h2: 0, h3: 0 });
    expect(seen.inner).toBe(1);
  });

  it('goes through a chain of two bastions, each reached only through the one before', async () => {
    await fleet.writePlaybook({
      groups: GROUPS,
      jump: `['root@${EDGE_GW}:2222', 'root@${INNER_FROM_EDGE}:2222']`,
    });
    const { status, report, logins: seen } = await deploy('fleet', 'v4', 'v2');
    expect(status).toBe(0);
    expect(await versions()).toEqual(Array(3).fill('serving v4'));
    expect(report.restarts).toEqual({ h1: 1, h2: 1, h3: 1 });
    expect(seen).toEqual({ inner: 0, edge: 1, innerFromEdge: 1 });
  });

  it('refuses a bastion whose key does not match before any host is touched, naming it', async () => {
    await fleet.writePlaybook({ groups: GROUPS, jump: `'root@${INNER_GW}:2222'` });
    const wrong = join(fleet.dir, 'known_hosts.wrong-bastion');
    const lines = (await readFile(fleet.knownHostsPath, 'utf8')).trim().split('\n');
    const impostor = edgeGw?.publicKey ?? '';
    await writeFile(
      wrong,
      lines
        .map((line) =>
          line.startsWith(`[${INNER_GW}]:2222 `) ? `[${INNER_GW}]:2222 ${impostor}` : line,
        )
        .join('\n'),
    );
    const {
      status,
      stderr,
      report,
      logins: seen,
    } = await deploy('fleet', 'v5', 'v4', {
      BATON_KNOWN_HOSTS: wrong,
    });
    expect(status).toBe(4);
    expect(stderr).toContain(
      `On the way to h1 (${fleet.hosts[0]?.address}:2222): The host key of jump host ${INNER_GW} (${INNER_GW}:2222) does not match the BATON_KNOWN_HOSTS file`,
    );
    expect(stderr).toContain(`ssh-keygen -R '[${INNER_GW}]:2222' -f "$BATON_KNOWN_HOSTS"`);
    expect(stderr).toContain('3 hosts cannot be used; nothing was changed on any host.');
    expect(Object.values(report.restarts)).toEqual([0, 0, 0]);
    expect(seen.inner).toBe(0);
  });

  it('refuses a host behind the bastion whose key does not match, or is unknown', async () => {
    await fleet.writePlaybook({ groups: GROUPS, jump: `'root@${INNER_GW}:2222'` });
    const [h1, h2] = fleet.hosts as [FleetHost, FleetHost];
    const wrong = join(fleet.dir, 'known_hosts.wrong-host');
    const lines = (await readFile(fleet.knownHostsPath, 'utf8')).trim().split('\n');
    const h3Key = lines.find((line) => line.startsWith(`[${fleet.hosts[2]?.address}]`))?.split(' ');
    await writeFile(
      wrong,
      lines
        .filter((line) => !line.startsWith(`[${h2.address}]`))
        .map((line) =>
          line.startsWith(`[${h1.address}]`)
            ? `[${h1.address}]:2222 ${h3Key?.slice(1).join(' ')}`
            : line,
        )
        .join('\n'),
    );
    const { status, stderr, report } = await deploy('fleet', 'v5', 'v4', {
      BATON_KNOWN_HOSTS: wrong,
    });
    expect(status).toBe(4);
    expect(stderr).toContain(
      `The host key of h1 (${h1.address}:2222) does not match the BATON_KNOWN_HOSTS file`,
    );
    const { stdout: h2Key } = await run('cat', [
      join(fleet.dir, 'hosts', h2.address, 'ssh_host_ed25519_key.pub'),
    ]);
    // ssh-keyscan cannot get behind the bastion: the line to add is given instead.
    expect(stderr).toContain(
      `h2 (${h2.address}:2222) is not in the BATON_KNOWN_HOSTS file; it presented ssh-ed25519 SHA256:`,
    );
    expect(stderr).toContain(
      `echo '[${h2.address}]:2222 ${h2Key.split(' ').slice(0, 2).join(' ')}' >> "$BATON_KNOWN_HOSTS"`,
    );
    expect(Object.values(report.restarts)).toEqual([0, 0, 0]);
  });

  it('reaches hosts named by ssh config aliases, with their IdentityFile and ProxyJump', async () => {
    // A key of the config's own: the one in BATON_SSH_KEY is authorized nowhere.
    const configKey = join(fleet.dir, 'config_key');
    const stranger = join(fleet.dir, 'stranger_key');
    for (const key of [configKey, stranger])
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const authorized = join(fleet.dir, 'authorized_keys');
    await writeFile(
      authorized,
      `${await readFile(authorized, 'utf8')}${await readFile(`${configKey}.pub`, 'utf8')}`,
    );
    const sshConfig = [
      'Host gw',
      `  HostName ${INNER_GW}`,
      '  Port 2222',
      '',
      ...fleet.hosts.flatMap((host, index) => [
        `Host web-${index + 1}`,
        `  HostName ${host.address}`,
      ]),
      '',
      'Host web-*',
      '  ProxyJump gw',
      '  Port 2222',
      '',
      'Host *',
      '  User root',
      `  IdentityFile ${configKey}`,
      '',
    ].join('\n');
    await writeFile(join(fleet.dir, 'ssh_config'), sshConfig);
    const playbook = join(fleet.playbooksDir, 'aliased.yml');
    await fleet.writePlaybook({ service: 'aliased', groups: GROUPS });
    await writeFile(
      playbook,
      (await readFile(playbook, 'utf8'))
        .replace(/ssh: \{[^}]*\}/, 'ssh: { config: ../ssh_config }')
        .replace(/\{ address: [0-9.]+, name: h(\d) \}/g, 'web-$1'),
    );
    const validate = await baton(['validate', fleet.playbooksDir], fleet.env());
    // Every setting of the aliases is one baton uses: nothing to note (only the open deployers).
    expect(validate.status).toBe(0);
    expect(validate.stderr).not.toContain('note:');
    const plan = await baton(['plan', 'aliased', 'v6', '--env', 'test'], fleet.env());
    expect(plan.stdout).toContain(
      `   hosts: web-2 (port 2222, as root), web-3 (port 2222, as root)\n   through: root@gw (${INNER_GW}:2222)\n`,
    );
    const {
      status,
      stderr,
      logins: seen,
    } = await deploy('aliased', 'v6', 'v4', {
      BATON_SSH_KEY: stranger,
    });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(await versions()).toEqual(Array(3).fill('serving v6'));
    expect(seen.inner).toBe(1);
  });
});
