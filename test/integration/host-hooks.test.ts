import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { FleetMonitor } from '../fleet/monitor.js';
import { baton } from '../support/cli.js';

/**
 * h1 and h2 are the hosts deployed to; h3 plays the load balancer, reached over SSH like any host.
 * Every hook and step writes one line to the same journal: the controller's from this process,
 * the others from the host sshd ran them on (its FLEET_ADDRESS, set by its own sshd), so the
 * journal says both the order and where each command really ran.
 */
let fleet: Fleet;
let journal: string;
const address = (index: number) => (fleet.hosts[index] as FleetHost).address;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 3, subnet: 131, spinupMs: 100 });
  journal = join(fleet.dir, 'hooks-journal');
});
afterAll(async () => {
  await fleet?.stop();
});
beforeEach(async () => {
  await writeFile(journal, '');
});

interface HookOptions {
  onFailure?: 'rollback_group' | 'halt';
  /** A shell condition on the host's address ({{host}}) under which the load balancer refuses to enable it. */
  lbRefusesUp?: string;
  controllerRefusesDrain?: string;
  lb?: string;
}

async function writePlaybook(options: HookOptions = {}): Promise<void> {
  const lb = options.lb ?? `${address(2)}:2222`;
  // Placeholders stay bare words (baton quotes them), so the journal lines are plain echo words.
  const log = (what: string) => `echo ${what} >> ${journal}`;
  const yaml = [
    'service: hooked',
    "version_pattern: '^v\\d+$'",
    `ssh: { user: ${userInfo().username}, port: 2222 }`,
    'before_host:',
    `  - { name: drain, on: controller, run: '${options.controllerRefusesDrain === undefined ? '' : `${options.controllerRefusesDrain} && exit 7; `}${log('controller drain {{host}}')}', timeout: 10s }`,
    `  - { name: lb-down, on: '${lb}', run: '${log('lb@$FLEET_ADDRESS down {{host}}')}', timeout: 10s }`,
    'steps:',
    `  - { name: install, run: '${log('host@$FLEET_ADDRESS install {{version}}')} && ${fleet.fleetctl} install {{version}}', timeout: 10s }`,
    `  - { name: restart, run: '${fleet.fleetctl} restart {{version}}', timeout: 10s }`,
    'after_host:',
    `  - { name: lb-up, on: '${lb}', run: '${options.lbRefusesUp === undefined ? '' : `${options.lbRefusesUp} && exit 9; `}${log('lb@$FLEET_ADDRESS up {{host}}')}', timeout: 10s }`,
    // Run once the host is healthy: what its service answers then goes in the journal too.
    `  - { name: enable, on: controller, run: '${log('controller enable {{host}} $(curl -fsS http://{{host}}:8080/health)')}', timeout: 10s }`,
    'health:',
    "  http: { url: 'http://{{host}}:8080/health', body_contains: 'ok {{version}}' }",
    '  interval: 100ms',
    '  timeout: 10s',
    `on_failure: ${options.onFailure ?? 'rollback_group'}`,
    'environments:',
    '  test:',
    '    groups:',
    `      - { name: web, hosts: [{ address: ${address(0)}, name: h1 }, { address: ${address(1)}, name: h2 }] }`,
  ].join('\n');
  await writeFile(join(fleet.playbooksDir, 'hooked.yml'), `${yaml}\n`);
}

async function journalLines(): Promise<string[]> {
  return (await readFile(journal, 'utf8')).trim().split('\n').filter(Boolean);
}

async function deploy(version: string, previous: string) {
  const monitor = new FleetMonitor(fleet.hosts);
  const run = await baton(
    ['deploy', 'hooked', version, '--env', 'test', '--previous', previous, '--yes'],
    fleet.env(),
  );
  return { ...run, report: await monitor.stop() };
}

/** Puts every host back on v1 directly, outside baton, so each test starts from the same fleet. */
async function reset(): Promise<void> {
  await writePlaybook();
  const run = await baton(
    ['deploy', 'hooked', 'v1', '--env', 'test', '--previous', 'v1', '--yes'],
    fleet.env(),
  );
  expect(run.status).toBe(0);
  await writeFile(journal, '');
}

describe('before_host and after_host over real SSH', () => {
  it('run around each host in order: drain at the controller and the load balancer, steps, healthy, then enable', async () => {
    await writePlaybook();
    const { status, report, stdout } = await deploy('v2', 'v1');
    expect(status, stdout).toBe(0);
    const [h1, h2, lb] = [address(0), address(1), address(2)];
    expect(await journalLines()).toEqual([
      `controller drain ${h1}`,
      `lb@${lb} down ${h1}`,
      `host@${h1} install v2`,
      `lb@${lb} up ${h1}`,
      `controller enable ${h1} ok v2`,
      `controller drain ${h2}`,
      `lb@${lb} down ${h2}`,
      `host@${h2} install v2`,
      `lb@${lb} up ${h2}`,
      `controller enable ${h2} ok v2`,
    ]);
    // The load balancer host ran hooks only: its own service was never restarted.
    expect(report.restarts).toEqual({ h1: 1, h2: 1, h3: 0 });
  });

  it('a failing after_host hook follows on_failure: the group rolls back, with its hooks around each host', async () => {
    await reset();
    const h2 = address(1);
    await writePlaybook({ lbRefusesUp: `[ {{host}} = ${h2} ]` });
    const { status, stdout } = await deploy('v2', 'v1');
    expect(status).not.toBe(0);
    expect(stdout).toMatch(/lb-up failed on h2 \(exit 9\)/);
    const [h1, lb] = [address(0), address(2)];
    const lines = await journalLines();
    // Forward: h1 fully, h2 up to its failing load balancer hook (which wrote nothing).
    expect(lines.slice(0, 8)).toEqual([
      `controller drain ${h1}`,
      `lb@${lb} down ${h1}`,
      `host@${h1} install v2`,
      `lb@${lb} up ${h1}`,
      `controller enable ${h1} ok v2`,
      `controller drain ${h2}`,
      `lb@${lb} down ${h2}`,
      `host@${h2} install v2`,
    ]);
    // Rollback: the failed host first, each host drained and installed again on v1. h2's
    // after hook keeps refusing, so the rollback stops there and says h2 needs a person.
    expect(lines.slice(8)).toEqual([
      `controller drain ${h2}`,
      `lb@${lb} down ${h2}`,
      `host@${h2} install v1`,
    ]);
    expect(stdout).toMatch(/rolling back web failed/);
    expect(await fleet.health(fleet.hosts[1] as FleetHost)).toBe('200 ok v1');
  });

  it('rolls back through the hooks to the end when they pass there', async () => {
    await reset();
    const h2 = address(1);
    // The load balancer refuses to enable h2 on v2 only: the rollback to v1 goes through.
    await writePlaybook({
      lbRefusesUp: `[ {{host}} = ${h2} ] && curl -fsS http://{{host}}:8080/health | grep -q v2`,
    });
    const { status, stdout } = await deploy('v2', 'v1');
    expect(status).not.toBe(0);
    expect(stdout).toMatch(/rolled back/);
    const [h1, lb] = [address(0), address(2)];
    expect((await journalLines()).slice(8)).toEqual([
      `controller drain ${h2}`,
      `lb@${lb} down ${h2}`,
      `host@${h2} install v1`,
      `lb@${lb} up ${h2}`,
      `controller enable ${h2} ok v1`,
      `controller drain ${h1}`,
      `lb@${lb} down ${h1}`,
      `host@${h1} install v1`,
      `lb@${lb} up ${h1}`,
      `controller enable ${h1} ok v1`,
    ]);
    expect(await fleet.health(fleet.hosts[0] as FleetHost)).toBe('200 ok v1');
    expect(await fleet.health(fleet.hosts[1] as FleetHost)).toBe('200 ok v1');
  });

  it('a failing controller hook with on_failure: halt stops before the host is touched', async () => {
    await reset();
    await writePlaybook({ onFailure: 'halt', controllerRefusesDrain: 'true' });
    const { status, stdout, report } = await deploy('v2', 'v1');
    expect(status).not.toBe(0);
    expect(stdout).toMatch(/drain failed on h1 \(exit 7\)/);
    expect(await journalLines()).toEqual([]);
    expect(report.restarts).toEqual({ h1: 0, h2: 0, h3: 0 });
  });

  it('a load balancer whose host key is unknown refuses the deploy before any hook runs', async () => {
    await reset();
    await writePlaybook();
    const lb = address(2);
    const knownHosts = join(fleet.dir, 'known_hosts_without_lb');
    const lines = (await readFile(fleet.knownHostsPath, 'utf8')).split('\n');
    await writeFile(knownHosts, lines.filter((line) => !line.startsWith(`[${lb}]`)).join('\n'));
    const run = await baton(
      ['deploy', 'hooked', 'v2', '--env', 'test', '--previous', 'v1', '--yes'],
      { ...fleet.env(), BATON_KNOWN_HOSTS: knownHosts },
    );
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(
      new RegExp(`${lb.replaceAll('.', '\\.')}.*not in`),
    );
    expect(await journalLines()).toEqual([]);
    expect(await fleet.health(fleet.hosts[0] as FleetHost)).toBe('200 ok v1');
  });
});
