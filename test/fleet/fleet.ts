import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const CONTROL_PORT = 8081;
const here = fileURLToPath(new URL('.', import.meta.url));

export type Behaviour = 'normal' | 'never-healthy' | 'install-fails' | 'install-hangs';

export interface FleetHost {
  name: string;
  address: string;
  sshPort: number;
  httpPort: number;
  controlPort: number;
  /** Where the host's service writes each change in whether it is serving (see monitor.ts). */
  journal: string;
}

export interface FleetOptions {
  hosts: number;
  /** Hosts live at 127.<subnet>.0.(10+i); give each test file its own subnet. */
  subnet?: number;
  /**
   * One host on ::1 instead, on free ports of its own (there is one IPv6 loopback address, and
   * the playbook's health URL names one port).
   */
  ipv6?: boolean;
  spinupMs?: number;
  initialVersion?: string;
  /**
   * Run every host inside this network namespace (a name from `ip netns`): from the test's own
   * namespace they cannot be reached at all, only through what the test opens into it.
   */
  netns?: string;
}

export interface PlaybookOptions {
  service?: string;
  groups: { hosts: number[]; parallel?: number; gate?: 'manual' }[];
  onFailure?: 'rollback_group' | 'rollback_all' | 'halt';
  stepTimeout?: string;
  healthTimeout?: string;
  healthInterval?: string;
  /** Only the restart step (for measuring), or install then restart (default). */
  steps?: 'restart' | 'install-restart';
  /** Extra lines for the environment, e.g. `deployers: [UALICE]` or an `approval:` map. */
  access?: string[];
  /** The playbook's ssh.jump, written as given (YAML), e.g. `'root@127.9.0.1:2222'`. */
  jump?: string;
}

/** A set of fake hosts on loopback: a real sshd and a small HTTP service each. */
export class Fleet {
  private readonly children: ChildProcess[] = [];
  /** Each host's sshd, by host name: a test may stop one to make that host unreachable. */
  private readonly sshds = new Map<string, ChildProcess>();
  readonly hosts: FleetHost[] = [];
  private readonly stopOnExit = () => this.killAll();

  private constructor(
    readonly dir: string,
    private readonly options: Required<FleetOptions>,
  ) {}

  get knownHostsPath(): string {
    return join(this.dir, 'known_hosts');
  }
  get clientKeyPath(): string {
    return join(this.dir, 'client_key');
  }
  get fleetctl(): string {
    return join(this.dir, 'bin', 'fleetctl');
  }
  get playbooksDir(): string {
    return join(this.dir, 'playbooks');
  }
  get pids(): number[] {
    return this.children.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** The environment `baton` needs to reach this fleet. */
  env(): Record<string, string> {
    return {
      BATON_SSH_KEY: this.clientKeyPath,
      BATON_KNOWN_HOSTS: this.knownHostsPath,
      BATON_PLAYBOOKS: this.playbooksDir,
      // Without REDIS_URL, baton keeps its embedded database here, not in the checkout.
      BATON_DATA_DIR: join(this.dir, 'data'),
    };
  }

  static async start(options: FleetOptions): Promise<Fleet> {
    if (!existsSync(SSHD)) {
      throw new Error(
        `${SSHD} is missing: run test/fleet/setup.sh (installs Debian's openssh-server)`,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'baton-fleet-'));
    if (options.ipv6 === true && options.hosts !== 1)
      throw new Error('an IPv6 fleet has one host: ::1 is the only IPv6 loopback address');
    const fleet = new Fleet(dir, {
      subnet: 0,
      spinupMs: 100,
      initialVersion: 'v1',
      netns: '',
      ipv6: false,
      ...options,
    });
    process.once('exit', fleet.stopOnExit);
    try {
      await fleet.prepare();
      await Promise.all(
        Array.from({ length: options.hosts }, (_, index) => fleet.startHost(index)),
      );
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  private async prepare(): Promise<void> {
    await mkdir('/run/sshd', { recursive: true });
    await mkdir(join(this.dir, 'bin'));
    await mkdir(this.playbooksDir);
    await run('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'baton-fleet',
      '-f',
      this.clientKeyPath,
    ]);
    await writeFile(join(this.dir, 'authorized_keys'), await readFile(`${this.clientKeyPath}.pub`));
    await writeFile(join(this.dir, 'behaviours.json'), '{}');
    await writeFile(
      this.fleetctl,
      `#!/bin/sh\nexec /bin/bash ${join(here, 'fleetctl.sh')} "$@"\n`,
      { mode: 0o755 },
    );
    await writeFile(this.knownHostsPath, '');
  }

  private async startHost(index: number): Promise<void> {
    const ipv6 = this.options.ipv6;
    const address = ipv6 ? '::1' : `127.${this.options.subnet}.0.${10 + index + 1}`;
    const hostDir = join(this.dir, 'hosts', ipv6 ? 'ipv6' : address);
    const host: FleetHost = {
      name: `h${index + 1}`,
      address,
      sshPort: ipv6 ? await freePort('::1') : 2222,
      httpPort: ipv6 ? await freePort('::1') : 8080,
      controlPort: ipv6 ? await freePort('::1') : CONTROL_PORT,
      journal: join(hostDir, 'journal'),
    };
    const listen = ipv6 ? `[${address}]:${host.sshPort}` : `${address}:${host.sshPort}`;
    await mkdir(hostDir, { recursive: true });
    const hostKey = join(hostDir, 'ssh_host_ed25519_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', host.name, '-f', hostKey]);
    const config = [
      `ListenAddress ${listen}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(hostDir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'MaxStartups 64:30:128',
      'MaxSessions 64',
      // SHLVL=1 keeps bash from reading root's .bashrc on every command (it costs ~0.5 s here).
      `SetEnv SHLVL=1 FLEET_ADDRESS=${address} FLEET_CONTROL_PORT=${host.controlPort} FLEET_BEHAVIOURS=${join(this.dir, 'behaviours.json')}`,
      'LogLevel ERROR',
    ].join('\n');
    await writeFile(join(hostDir, 'sshd_config'), `${config}\n`);
    const sshd = this.track(
      this.spawn(SSHD, ['-D', '-e', '-f', join(hostDir, 'sshd_config')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    this.sshds.set(host.name, sshd);
    const service = this.track(
      this.spawn(
        process.execPath,
        [
          join(here, 'service.mjs'),
          `--address=${address}`,
          `--port=${host.httpPort}`,
          `--control-port=${host.controlPort}`,
          `--version=${this.options.initialVersion}`,
          `--spinup=${this.options.spinupMs}`,
          `--behaviours=${join(this.dir, 'behaviours.json')}`,
          `--journal=${host.journal}`,
        ],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      ),
    );
    await new Promise<void>((resolve, reject) => {
      service.once('message', () => resolve());
      service.once('exit', (code) =>
        reject(new Error(`service for ${address} exited with ${code}`)),
      );
    });
    // From outside its namespace a host cannot be reached: sshd writes its PID file once it listens.
    if (this.options.netns === '') await waitForPort(address, host.sshPort);
    else await waitForFile(join(hostDir, 'sshd.pid'));
    const publicKey = (await readFile(`${hostKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(this.knownHostsPath, `[${address}]:${host.sshPort} ${publicKey}\n`, {
      flag: 'a',
    });
    this.hosts[index] = host;
  }

  private spawn(command: string, args: string[], options: SpawnOptions): ChildProcess {
    const { netns } = this.options;
    return netns === ''
      ? spawn(command, args, options)
      : spawn('ip', ['netns', 'exec', netns, command, ...args], options);
  }

  private track(child: ChildProcess): ChildProcess {
    this.children.push(child);
    return child;
  }

  /**
   * Stops a host's sshd (its service keeps running): the host can no longer be connected to.
   * Resolves once sshd has exited and its address refuses connections.
   */
  async stopSsh(host: FleetHost): Promise<void> {
    const sshd = this.sshds.get(host.name);
    if (sshd === undefined) throw new Error(`no sshd for ${host.name}`);
    if (sshd.exitCode === null && sshd.signalCode === null) {
      const exited = new Promise((resolve) => sshd.once('exit', resolve));
      sshd.kill('SIGTERM');
      await exited;
    }
  }

  /** Makes every host (or only `host`) treat `version` this way from now on. */
  async behave(version: string, behaviour: Behaviour, host?: FleetHost): Promise<void> {
    const path = join(this.dir, 'behaviours.json');
    const behaviours = JSON.parse(await readFile(path, 'utf8')) as Record<string, Behaviour>;
    behaviours[host === undefined ? version : `${version}@${host.address}`] = behaviour;
    await writeFile(path, JSON.stringify(behaviours));
  }

  /**
   * Runs `command` on a host with OpenSSH's own client, as a person would (root, the fleet's key,
   * host keys checked against `knownHosts`, the fleet's file unless given).
   */
  ssh(host: FleetHost, command: string, knownHosts = this.knownHostsPath) {
    return run('ssh', [
      '-i',
      this.clientKeyPath,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-p',
      String(host.sshPort),
      `root@${host.address}`,
      command,
    ]);
  }

  /** What a host's /health answers now: its status code and body, or `down`. */
  async health(host: FleetHost): Promise<string> {
    try {
      const response = await fetch(`${this.baseUrl(host)}/health`, {
        signal: AbortSignal.timeout(1000),
      });
      return `${response.status} ${(await response.text()).trim()}`;
    } catch {
      return 'down';
    }
  }

  /** The host's service, as a URL (an IPv6 address in brackets). */
  baseUrl(host: FleetHost): string {
    const address = host.address.includes(':') ? `[${host.address}]` : host.address;
    return `http://${address}:${host.httpPort}`;
  }

  /** Writes a playbook for this fleet into `playbooksDir` and returns its service name. */
  async writePlaybook(options: PlaybookOptions): Promise<string> {
    const service = options.service ?? 'fleet';
    const yaml = [
      `service: ${service}`,
      "version_pattern: '^v\\d+(\\.\\d+)*$'",
      `ssh: { user: ${userInfo().username}, port: 2222${options.jump === undefined ? '' : `, jump: ${options.jump}`} }`,
      'steps:',
      ...(options.steps === 'restart'
        ? []
        : [
            `  - { name: install, run: '${this.fleetctl} install {{version}}', timeout: ${options.stepTimeout ?? '20s'} }`,
          ]),
      `  - { name: restart, run: '${this.fleetctl} restart {{version}}', timeout: ${options.stepTimeout ?? '20s'} }`,
      'health:',
      `  http: { url: 'http://{{host}}:${this.hosts[0]?.httpPort ?? 8080}/health', body_contains: 'ok {{version}}' }`,
      `  interval: ${options.healthInterval ?? '200ms'}`,
      `  timeout: ${options.healthTimeout ?? '10s'}`,
      `on_failure: ${options.onFailure ?? 'rollback_group'}`,
      'environments:',
      '  test:',
      ...(options.access ?? []).map((line) => `    ${line}`),
      '    groups:',
      ...options.groups.map((group, index) => {
        const hosts = group.hosts.map((i) => {
          const host = this.hosts[i] as FleetHost;
          // IPv6 in the [address]:port form a person would write, on the host's own SSH port.
          return host.address.includes(':')
            ? `'[${host.address}]:${host.sshPort}'`
            : `{ address: ${host.address}, name: ${host.name} }`;
        });
        const extras = `${group.parallel === undefined ? '' : `, parallel: ${group.parallel}`}${group.gate === undefined ? '' : `, gate: ${group.gate}`}`;
        return `      - { name: g${index + 1}, hosts: [${hosts.join(', ')}]${extras} }`;
      }),
    ].join('\n');
    await writeFile(join(this.playbooksDir, `${service}.yml`), `${yaml}\n`);
    return service;
  }

  private killAll(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  /** Stops every process the fleet started, by PID, and removes its files. */
  async stop(): Promise<void> {
    process.off('exit', this.stopOnExit);
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill('SIGKILL'), 2000);
            child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function waitForFile(path: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitForPort(address: string, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listens on ${address}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
