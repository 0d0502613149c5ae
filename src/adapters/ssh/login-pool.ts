import PQueue from 'p-queue';
import type { NodeSSH } from 'node-ssh';
import type { JumpTarget } from '../../app/ports.js';
import { verifyHostKey } from './known-hosts.js';
import type { KnownHostsFile } from './known-hosts-file.js';
import type { Login } from './ssh-login.js';

/**
 * The logins a worker keeps open between commands and rollouts, as ControlPersist does for ssh:
 * a bounded number of idle ones, each closed after a while unused, and each checked again
 * against known_hosts before it is reused, so a key revoked or replaced since is never used again.
 */
export interface PoolLimits {
  /** Idle logins kept open at most; the least recently used are closed first. */
  maxIdle: number;
  /** An unused login is closed after this long. */
  idleMs: number;
  /** Handshakes at once: commands' logins go before pre-flight's. */
  handshakes: number;
  /** A login unused for this long or longer is asked whether the server still answers before reuse. */
  probeAfterMs: number;
  /** How long that question may take before the login is given up for a new one. */
  probeTimeoutMs: number;
}

export const DEFAULT_POOL_LIMITS: PoolLimits = {
  maxIdle: 1024,
  idleMs: 10 * 60_000,
  handshakes: 8,
  // ssh2's keepalive (every 15 s, three unanswered close it) finds a dead login after that.
  probeAfterMs: 15_000,
  probeTimeoutMs: 5_000,
};

export interface Pooled {
  readonly key: string;
  readonly login: Login;
  /** The login to the jump host this one goes through. */
  readonly via: Pooled | undefined;
  /** Logins that go through this one. */
  riders: number;
  /** Commands and forwarded connections in flight on it. */
  busy: number;
  lastUsed: number;
  /** Never handed out again; closed once nothing uses it. */
  retired: boolean;
  /** Closed, and its hop told so. */
  ended: boolean;
}

/** The way to a host, hop by hop, as a key: a bastion reached two ways is two logins. */
export const wayKey = (way: JumpTarget[]): string =>
  way
    .map(
      (endpoint) =>
        `${endpoint.user}@${endpoint.address}:${endpoint.port}${endpoint.identityFile === undefined ? '' : ` (${endpoint.identityFile})`}`,
    )
    .join(' > ');

export class LoginPool {
  private readonly logins = new Map<string, Pooled>();
  private readonly handshakeQueue: PQueue;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly knownHosts: KnownHostsFile,
    readonly limits: PoolLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.handshakeQueue = new PQueue({ concurrency: limits.handshakes });
  }

  /** Open logins, newest use last (for diagnostics and tests). */
  keys(): string[] {
    return [...this.logins.values()]
      .sort((a, b) => a.lastUsed - b.lastUsed)
      .map((pooled) => pooled.key);
  }

  /** Runs a handshake in its turn: `urgent` ones (a command waits) before pre-flight's. */
  handshake<T>(urgent: boolean, work: () => Promise<T>): Promise<T> {
    return this.handshakeQueue.add(work, { priority: urgent ? 1 : 0 });
  }

  /** A login to reuse for `key`, taken for the caller (release it), or undefined to open one. */
  async reuse(key: string): Promise<Pooled | undefined> {
    for (;;) {
      const pooled = this.logins.get(key);
      if (pooled === undefined) return undefined;
      pooled.busy++;
      const fit = await this.fit(pooled);
      if (fit) return pooled;
      this.release(pooled);
      // Given up: another caller may have opened a new one meanwhile.
    }
  }

  /** Adds a freshly opened login, taken for the caller. */
  add(key: string, login: Login, via: Pooled | undefined): Pooled {
    const pooled: Pooled = {
      key,
      login,
      via,
      riders: 0,
      busy: 1,
      lastUsed: this.now(),
      retired: false,
      ended: false,
    };
    if (via !== undefined) via.riders++;
    const replaced = this.logins.get(key);
    if (replaced !== undefined) this.retire(replaced);
    this.logins.set(key, pooled);
    const client = login.ssh.connection;
    client?.once('close', () => this.gone(pooled));
    // A reset or a failed keepalive after login: 'close' follows, and the commands on it fail
    // with their own errors. Unheard, ssh2's 'error' would end the whole process.
    client?.on('error', () => {});
    this.startSweeping();
    return pooled;
  }

  take(pooled: Pooled): void {
    pooled.busy++;
  }

  release(pooled: Pooled): void {
    pooled.busy--;
    pooled.lastUsed = this.now();
    if (pooled.retired) this.closeIfUnused(pooled);
    else this.trim();
  }

  /** Hands this login out no more (its commands in flight finish on it), and closes it when done. */
  retire(pooled: Pooled): void {
    if (pooled.retired) return;
    pooled.retired = true;
    if (this.logins.get(pooled.key) === pooled) this.logins.delete(pooled.key);
    for (const other of [...this.logins.values()]) if (other.via === pooled) this.retire(other);
    this.closeIfUnused(pooled);
  }

  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const open = [...this.logins.values()];
    this.logins.clear();
    for (const pooled of open) pooled.login.ssh.dispose();
  }

  /** Still trusted by known_hosts, the whole way, and (after a long rest) still answering. */
  private async fit(pooled: Pooled): Promise<boolean> {
    const lines = await this.knownHosts.lines().catch(() => undefined);
    for (let login: Pooled | undefined = pooled; login !== undefined; login = login.via) {
      const trusted =
        lines !== undefined &&
        verifyHostKey(lines, login.login.knownAs, login.login.hostKey) === 'trusted';
      if (!trusted || login.retired) {
        this.retire(login);
        return false;
      }
    }
    if (pooled.busy > 1 || this.now() - pooled.lastUsed < this.limits.probeAfterMs) return true;
    if (await answers(pooled.login.ssh, this.limits.probeTimeoutMs)) return true;
    this.retire(pooled);
    pooled.login.ssh.dispose();
    return false;
  }

  private closeIfUnused(pooled: Pooled): void {
    if (pooled.busy > 0 || pooled.riders > 0) return;
    pooled.login.ssh.dispose();
    this.gone(pooled);
  }

  /** The login is closed (by us, the server or the network): forget it and free its hop. */
  private gone(pooled: Pooled): void {
    if (pooled.ended) return;
    pooled.ended = true;
    if (this.logins.get(pooled.key) === pooled) this.logins.delete(pooled.key);
    if (!pooled.retired) {
      pooled.retired = true;
      for (const other of [...this.logins.values()]) if (other.via === pooled) this.retire(other);
    }
    const via = pooled.via;
    if (via === undefined) return;
    via.riders--;
    via.lastUsed = this.now();
    if (via.retired) this.closeIfUnused(via);
    else this.trim();
  }

  private idle(): Pooled[] {
    return [...this.logins.values()].filter((pooled) => pooled.busy === 0 && pooled.riders === 0);
  }

  /** Closes the least recently used idle logins beyond the bound. */
  private trim(): void {
    const idle = this.idle();
    if (idle.length <= this.limits.maxIdle) return;
    idle.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const pooled of idle.slice(0, idle.length - this.limits.maxIdle)) this.retire(pooled);
  }

  private startSweeping(): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = setInterval(
      () => {
        const cutoff = this.now() - this.limits.idleMs;
        for (const pooled of this.idle()) if (pooled.lastUsed <= cutoff) this.retire(pooled);
        if (this.logins.size === 0 && this.sweeper !== undefined) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.max(50, Math.min(this.limits.idleMs / 2, 30_000)),
    );
    this.sweeper.unref();
  }
}

/**
 * Whether the server answers a request, without side effects: cancelling a port forward that was
 * never asked for, which a live server refuses (a refusal is an answer). A dead connection gives
 * no answer, or ssh2's "No response from server" once it notices.
 */
function answers(ssh: NodeSSH, timeoutMs: number): Promise<boolean> {
  const client = ssh.connection;
  if (client === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      client.unforwardIn('127.0.0.1', 0, (error) => {
        clearTimeout(timer);
        resolve(error?.message !== 'No response from server');
      });
    } catch {
      clearTimeout(timer);
      resolve(false);
    }
  });
}
