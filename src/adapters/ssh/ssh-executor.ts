import { setMaxListeners } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import {
  ConnectionError,
  ExecutorClosedError,
  type CommandResult,
  type HostTarget,
  type JumpTarget,
  type RemoteExecutor,
} from '../../app/ports.js';
import { shellQuote } from '../../core/shell.js';
import type { Tunnels } from '../health/network-health-probe.js';
import {
  DEFAULT_POOL_LIMITS,
  LoginPool,
  wayKey,
  type Pooled,
  type PoolLimits,
} from './login-pool.js';
import { OutputTail } from './output-tail.js';
import { describeEndpoint, SshLogin, type LoginOptions } from './ssh-login.js';

export type SshExecutorOptions = LoginOptions & Partial<PoolLimits>;

/** Seconds the remote `timeout` waits after TERM before it sends KILL. */
const KILL_GRACE_S = 5;
/** If the host does not answer even after that, stop waiting locally. */
const LOCAL_GRACE_MS = (KILL_GRACE_S + 5) * 1000;

const describe = describeEndpoint;

/** A command that could not start on a login; `certain` when it surely never reached the host. */
class NotStarted extends Error {
  constructor(
    message: string,
    readonly certain: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs commands over SSH with host keys always verified, keeping logins open between commands
 * and rollouts (see LoginPool). A host behind jump hosts is reached through a channel of the
 * login to the last of them, and that login is shared by every host behind it.
 */
export class SshExecutor implements RemoteExecutor, Tunnels {
  private readonly opening = new Map<string, Promise<Pooled>>();
  /**
   * Closed: no login is opened any more, and one under way is given up, so that closing never
   * waits out a silent host's connect timeout (a deploy refused at once would wait for it).
   */
  private closed = false;
  private readonly closing = new AbortController();
  private readonly login: SshLogin;
  private readonly pool: LoginPool;

  constructor(options: SshExecutorOptions) {
    this.login = new SshLogin(options);
    const limits = { ...DEFAULT_POOL_LIMITS };
    for (const name of Object.keys(limits) as (keyof PoolLimits)[])
      if (options[name] !== undefined) limits[name] = options[name];
    // One listener per login under way, each removed as its login ends: at most one a handshake.
    setMaxListeners(limits.handshakes + 1, this.closing.signal);
    this.pool = new LoginPool(this.login.knownHostsFile, limits);
  }

  /** The logins kept open, least recently used first. */
  openLogins(): string[] {
    return this.pool.keys();
  }

  /** Pre-flight: opens (or reuses) the login; its handshake waits behind commands' handshakes. */
  async connect(target: HostTarget): Promise<void> {
    this.pool.release(await this.connection(target, false));
  }

  async run(
    target: HostTarget,
    command: string,
    options: { timeoutMs: number },
  ): Promise<CommandResult> {
    // The remote `timeout` stops the whole process group of the command when its time is up.
    const seconds = (options.timeoutMs / 1000).toFixed(3);
    const wrapped = `exec timeout --kill-after=${KILL_GRACE_S}s ${seconds}s sh -c ${shellQuote(command)}`;
    let pooled = await this.connection(target, true);
    let stream: ClientChannel | undefined;
    const started = Date.now();
    for (let attempt = 1; stream === undefined; attempt++) {
      try {
        stream = await exec(pooled, wrapped);
      } catch (error) {
        // A login that went away while it rested: the command never reached the host, so it
        // is safe to start it once on a new login (whose own failure then reaches the caller).
        const retry = attempt === 1 && error instanceof NotStarted && error.certain;
        if (retry) this.pool.retire(pooled);
        this.pool.release(pooled);
        if (!retry)
          throw this.closed
            ? this.closedError(target)
            : new ConnectionError(
                'lost',
                target.name,
                `Could not start a command on ${describe(target)}: ${(error as Error).message}`,
              );
        pooled = await this.connection(target, true);
      }
    }
    const running = stream;
    const taken = pooled;
    return new Promise<CommandResult>((resolve) => {
      const stdout = new OutputTail();
      const stderr = new OutputTail();
      let stoppedLocally = false;
      const guard = setTimeout(() => {
        stoppedLocally = true;
        running.close();
      }, options.timeoutMs + LOCAL_GRACE_MS);
      running.on('data', (chunk: Buffer) => stdout.push(chunk));
      running.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      running.on('close', (code: unknown) => {
        clearTimeout(guard);
        this.pool.release(taken);
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
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    this.pool.close();
    await Promise.all([...this.opening.values()].map((attempt) => attempt.catch(() => undefined)));
    this.pool.close();
  }

  private closedError(target: HostTarget): ConnectionError {
    return new ExecutorClosedError(
      target.name,
      `No login to ${describe(target)} is opened: this worker has closed its connections`,
    );
  }

  /** A TCP connection to `address:port` opened by the last jump host on the way to `target`. */
  async forward(target: HostTarget, address: string, port: number): Promise<Duplex> {
    const hops = target.jump ?? [];
    if (hops.length === 0)
      throw new Error(`${describe(target)} has no jump host to forward a connection from`);
    const pooled = await this.connection(target, true, hops);
    try {
      const channel = await pooled.login.ssh.forwardOut('127.0.0.1', 0, address, port);
      channel.once('close', () => this.pool.release(pooled));
      return channel;
    } catch (error) {
      this.pool.release(pooled);
      throw error;
    }
  }

  /**
   * The login to the last of `way` (the target itself unless given), taken for the caller, who
   * releases it: reused when known_hosts still trusts it, else opened (what is missing of the way).
   */
  private async connection(
    target: HostTarget,
    urgent: boolean,
    way: JumpTarget[] = [...(target.jump ?? []), target],
  ): Promise<Pooled> {
    const key = wayKey(way);
    for (;;) {
      const pending = this.opening.get(key);
      if (pending !== undefined) {
        const pooled = await pending;
        if (pooled.retired) continue;
        this.pool.take(pooled);
        return pooled;
      }
      const reused = await this.pool.reuse(key);
      if (reused !== undefined) return reused;
      if (this.opening.has(key)) continue;
      if (this.closed) throw this.closedError(target);
      const attempt = this.open(target, way, key, urgent);
      this.opening.set(key, attempt);
      void attempt.then(
        () => this.opening.delete(key),
        () => this.opening.delete(key),
      );
      return attempt;
    }
  }

  private async open(
    target: HostTarget,
    way: JumpTarget[],
    key: string,
    urgent: boolean,
  ): Promise<Pooled> {
    const before = way.slice(0, -1);
    const endpoint = way.at(-1) as JumpTarget;
    const hop = endpoint !== target;
    let via: Pooled | undefined;
    if (before.length > 0) {
      try {
        via = await this.connection(target, urgent, before);
      } catch (error) {
        // The hop is shared: say which target this failure stops, whichever asked first.
        if (!(error instanceof ConnectionError) || hop) throw error;
        if (this.closed) throw this.closedError(target);
        throw new ConnectionError(
          error.code,
          target.name,
          `On the way to ${describe(target)}: ${error.message}`,
        );
      }
    }
    try {
      const login = await this.pool
        .handshake(urgent, () => {
          // Still waiting its turn when closed.
          if (this.closed) throw this.closedError(target);
          return this.login.open(
            { endpoint, target, before, hop },
            via?.login.ssh,
            this.closing.signal,
          );
        })
        .catch((error: unknown) => {
          throw this.closed ? this.closedError(target) : error;
        });
      // Closed as the handshake ended: the pool it would join is gone.
      if (this.closed) {
        login.ssh.dispose();
        throw this.closedError(target);
      }
      return this.pool.add(key, login, via);
    } finally {
      if (via !== undefined) this.pool.release(via);
    }
  }
}

/** Starts `command` on the login; rejects with NotStarted when it could not. */
function exec(pooled: Pooled, command: string): Promise<ClientChannel> {
  const client = pooled.login.ssh.connection;
  if (client === null) return Promise.reject(new NotStarted('the connection is closed', true));
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (error, stream) => {
        if (error === undefined || error === null) resolve(stream);
        else
          reject(
            // Refused before the session opened: the command was never sent.
            new NotStarted(error.message, error.message.startsWith('(SSH) Channel open failure')),
          );
      });
    } catch (error) {
      // ssh2 throws "Not connected" before sending anything.
      reject(new NotStarted((error as Error).message, true));
    }
  });
}
