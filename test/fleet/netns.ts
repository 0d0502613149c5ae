import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * A network namespace of its own: a loopback nobody else sees, so hosts in it can be reached only
 * the ways a test opens. Removing it stops every process still inside.
 */
export class Netns {
  // A test process that exits without its afterAll still takes its namespace along.
  private readonly removeOnExit = () => {
    try {
      for (const pid of this.pids(execFileSync('ip', ['netns', 'pids', this.name]).toString()))
        this.kill(pid);
      execFileSync('ip', ['netns', 'del', this.name]);
    } catch {
      // Nothing more can be done while exiting.
    }
  };

  private constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await run('ip', ['netns', 'add', name]);
    const netns = new Netns(name);
    process.once('exit', netns.removeOnExit);
    try {
      await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      await netns.remove();
      throw error;
    }
    return netns;
  }

  /** `command` as run inside the namespace (ip execs it: the PID is the command's). */
  wrap(command: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...command];
  }

  /** Stops whatever runs inside (by PID), then removes the namespace. */
  async remove(): Promise<void> {
    process.off('exit', this.removeOnExit);
    const { stdout } = await run('ip', ['netns', 'pids', this.name]).catch(() => ({ stdout: '' }));
    for (const pid of this.pids(stdout)) this.kill(pid);
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }

  private pids(listing: string): number[] {
    return listing
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  }

  private kill(pid: number): void {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

export interface BastionOptions {
  dir: string;
  name: string;
  /** Where its sshd processes run, and so what they can reach. */
  netns: Netns;
  authorizedKeys: string;
}

/**
 * A jump host: an sshd that allows TCP forwarding and runs no commands (ForceCommand /bin/false),
 * one process per connection (sshd -i), so a login through it is one line in its log. It is
 * reachable only at the addresses given to `listen`.
 */
export class Bastion {
  private readonly listeners: ChildProcess[] = [];
  private logs = 0;
  private readonly stopOnExit = () => {
    for (const listener of this.listeners) if (listener.exitCode === null) listener.kill('SIGKILL');
  };

  private constructor(
    private readonly options: BastionOptions,
    readonly publicKey: string,
  ) {}

  get name(): string {
    return this.options.name;
  }

  static async create(options: BastionOptions): Promise<Bastion> {
    const dir = join(options.dir, 'bastions', options.name);
    await mkdir(dir, { recursive: true });
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', options.name, '-f', hostKey]);
    const config = [
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${options.authorizedKeys}`,
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'ForceCommand /bin/false',
      'LogLevel INFO',
    ].join('\n');
    await writeFile(join(dir, 'sshd_config'), `${config}\n`);
    const publicKey = (await readFile(`${hostKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    return new Bastion({ ...options, dir }, publicKey);
  }

  /**
   * Makes the bastion answer at `address:port` inside `from` (the test's own namespace when
   * undefined); returns the log that gets one "Accepted publickey" line per login made there.
   */
  async listen(address: string, port: number, from?: Netns): Promise<string> {
    const log = join(this.options.dir, `sessions-${++this.logs}.log`);
    await writeFile(log, '');
    const sshd = this.options.netns.wrap([
      SSHD,
      '-i',
      '-e',
      '-f',
      join(this.options.dir, 'sshd_config'),
    ]);
    const command = [process.execPath, join(here, 'inetd.mjs'), address, String(port), log, '--'];
    const argv = from === undefined ? [...command, ...sshd] : from.wrap([...command, ...sshd]);
    const listener = spawn(argv[0] as string, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (this.listeners.length === 0) process.once('exit', this.stopOnExit);
    this.listeners.push(listener);
    await new Promise<void>((resolve, reject) => {
      listener.stdout?.once('data', () => resolve());
      listener.once('exit', (code) =>
        reject(new Error(`the listener of ${this.name} at ${address}:${port} exited with ${code}`)),
      );
    });
    return log;
  }

  /** Logins recorded in a log `listen` returned. */
  static async logins(log: string): Promise<number> {
    return (await readFile(log, 'utf8'))
      .split('\n')
      .filter((line) => /Accepted publickey/.test(line)).length;
  }

  knownHostsLine(address: string, port: number): string {
    return `[${address}]:${port} ${this.publicKey}`;
  }

  /** Stops its listeners by PID; sshd processes of open connections end with their namespace. */
  async stop(): Promise<void> {
    process.off('exit', this.stopOnExit);
    await Promise.all(
      this.listeners.map(
        (listener) =>
          new Promise<void>((resolve) => {
            if (listener.exitCode !== null || listener.signalCode !== null) return resolve();
            listener.once('exit', () => resolve());
            listener.kill('SIGKILL');
          }),
      ),
    );
  }
}
