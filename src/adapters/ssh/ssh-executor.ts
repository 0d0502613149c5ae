import type { Duplex } from 'node:stream';
import type { NodeSSH } from 'node-ssh';
import {
  ConnectionError,
  type CommandResult,
  type HostTarget,
  type JumpTarget,
  type RemoteExecutor,
} from '../../app/ports.js';
import { shellQuote } from '../../core/shell.js';
import type { Tunnels } from '../health/network-health-probe.js';
import { OutputTail } from './output-tail.js';
import { describeEndpoint, SshLogin, type LoginOptions } from './ssh-login.js';

export type SshExecutorOptions = LoginOptions;

/** Seconds the remote `timeout` waits after TERM before it sends KILL. */
const KILL_GRACE_S = 5;
/** If the host does not answer even after that, stop waiting locally. */
const LOCAL_GRACE_MS = (KILL_GRACE_S + 5) * 1000;

const describe = describeEndpoint;

const loginKey = (endpoint: JumpTarget): string =>
  `${endpoint.user}@${endpoint.address}:${endpoint.port}${endpoint.identityFile === undefined ? '' : ` (${endpoint.identityFile})`}`;

/**
 * Runs commands over SSH, one reused connection per host, with host keys always verified. A host
 * behind jump hosts is reached through a channel of the connection to the last of them, and that
 * connection is shared by every host behind it.
 */
export class SshExecutor implements RemoteExecutor, Tunnels {
  /** Keyed by the whole way: the hops and the host, so a bastion reached two ways is two logins. */
  private readonly connections = new Map<string, Promise<NodeSSH>>();
  private readonly login: SshLogin;

  constructor(options: SshExecutorOptions) {
    this.login = new SshLogin(options);
  }

  async connect(target: HostTarget): Promise<void> {
    await this.connection(target);
  }

  async run(
    target: HostTarget,
    command: string,
    options: { timeoutMs: number },
  ): Promise<CommandResult> {
    const ssh = await this.connection(target);
    const client = ssh.connection;
    if (client === null)
      throw new ConnectionError(
        'lost',
        target.name,
        `The connection to ${describe(target)} is closed.`,
      );
    // The remote `timeout` stops the whole process group of the command when its time is up.
    const seconds = (options.timeoutMs / 1000).toFixed(3);
    const wrapped = `exec timeout --kill-after=${KILL_GRACE_S}s ${seconds}s sh -c ${shellQuote(command)}`;
    const started = Date.now();
    return new Promise<CommandResult>((resolve, reject) => {
      client.exec(wrapped, (error, stream) => {
        if (error !== undefined && error !== null) {
          reject(
            new ConnectionError(
              'lost',
              target.name,
              `Could not start a command on ${describe(target)}: ${error.message}`,
            ),
          );
          return;
        }
        const stdout = new OutputTail();
        const stderr = new OutputTail();
        let stoppedLocally = false;
        const guard = setTimeout(() => {
          stoppedLocally = true;
          stream.close();
        }, options.timeoutMs + LOCAL_GRACE_MS);
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: unknown) => {
          clearTimeout(guard);
          const durationMs = Date.now() - started;
          const exitCode = typeof code === 'number' ? code : null;
          const killedByTimeout =
            (exitCode === 124 || exitCode === 137) && durationMs >= options.timeoutMs - 50;
          resolve({
            exitCode,
            timedOut: stoppedLocally || killedByTimeout,
            stdoutTail: stdout.text(),
            stderrTail: stderr.text(),
            durationMs,
          });
        });
      });
    });
  }

  async close(): Promise<void> {
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      open.map(async (attempt) => (await attempt.catch(() => undefined))?.dispose()),
    );
  }

  /** A TCP connection to `address:port` opened by the last jump host on the way to `target`. */
  async forward(target: HostTarget, address: string, port: number): Promise<Duplex> {
    const hops = target.jump ?? [];
    if (hops.length === 0)
      throw new Error(`${describe(target)} has no jump host to forward a connection from`);
    const ssh = await this.connection(target, hops);
    return ssh.forwardOut('127.0.0.1', 0, address, port);
  }

  /** The connection to the last of `way` (the target itself unless given), opening what is missing. */
  private connection(
    target: HostTarget,
    way: JumpTarget[] = [...(target.jump ?? []), target],
  ): Promise<NodeSSH> {
    const key = way.map(loginKey).join(' > ');
    const existing = this.connections.get(key);
    if (existing !== undefined) return existing;
    const attempt = this.open(target, way);
    this.connections.set(key, attempt);
    attempt.then(
      (ssh) => ssh.connection?.once('close', () => this.connections.delete(key)),
      () => this.connections.delete(key),
    );
    return attempt;
  }

  private async open(target: HostTarget, way: JumpTarget[]): Promise<NodeSSH> {
    const before = way.slice(0, -1);
    const endpoint = way.at(-1) as JumpTarget;
    const hop = endpoint !== target;
    let via: NodeSSH | undefined;
    if (before.length > 0) {
      try {
        via = await this.connection(target, before);
      } catch (error) {
        // The hop is shared: say which target this failure stops, whichever asked first.
        if (!(error instanceof ConnectionError) || hop) throw error;
        throw new ConnectionError(
          error.code,
          target.name,
          `On the way to ${describe(target)}: ${error.message}`,
        );
      }
    }
    return this.login.open({ endpoint, target, before, hop }, via);
  }
}
