import {
  ConnectionError,
  type Clock,
  type CommandResult,
  type ConnectionFailure,
  type HealthProbe,
  type HostTarget,
  type ProbeResult,
  type RemoteExecutor,
} from '../../src/app/ports.js';

/**
 * Hosts that live in memory: a command "restart <version>" makes the host healthy on that
 * version shortly after; a command whose `host: command` line contains an entry of `failing` exits 1. For orchestrator tests
 * that need no network; the real adapters are tested against the sshd fleet.
 */
export class InMemoryHosts implements RemoteExecutor, HealthProbe {
  readonly log: string[] = [];
  /** Every restart: the host is down from `at` until it serves again at `readyAt`. */
  readonly restarts: { host: string; version: string; at: number; readyAt: number }[] = [];
  readonly failing = new Set<string>();
  /** Hosts that cannot be connected to, by name, and how. */
  readonly refusing = new Map<string, ConnectionFailure>();
  private readonly versions = new Map<string, { version: string; readyAt: number }>();
  private readonly waiters: (() => void)[] = [];
  private readonly watchers: { count: number; resolve: () => void }[] = [];
  /** While set, commands wait until `release()` is called. */
  hold = false;
  /** How long after its restart a host answers healthy. */
  spinupMs = 5;

  constructor(private readonly clock: Clock) {}

  async connect(target: HostTarget): Promise<void> {
    const code = this.refusing.get(target.name);
    if (code !== undefined)
      throw new ConnectionError(code, target.name, `Cannot connect to ${target.name}: ${code}.`);
  }
  async close(): Promise<void> {}

  release(): void {
    this.hold = false;
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `count` commands have started, whether or not they are held. */
  whenStarted(count: number): Promise<void> {
    if (this.log.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  async run(target: HostTarget, command: string): Promise<CommandResult> {
    this.log.push(`${target.name}: ${command}`);
    for (const watcher of this.watchers.filter((item) => this.log.length >= item.count)) {
      this.watchers.splice(this.watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
    if (this.hold) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const result = (exitCode: number): CommandResult => ({
      exitCode,
      timedOut: false,
      stdoutTail: '',
      stderrTail: exitCode === 0 ? '' : 'nope',
      durationMs: 1,
    });
    const line = `${target.name}: ${command}`;
    if ([...this.failing].some((fragment) => line.includes(fragment))) return result(1);
    const restart = /^restart (\S+)$/.exec(command);
    if (restart !== null) {
      const version = restart[1] as string;
      const at = this.clock.now();
      this.versions.set(target.name, { version, readyAt: at + this.spinupMs });
      this.restarts.push({ host: target.name, version, at, readyAt: at + this.spinupMs });
    }
    return result(0);
  }

  async check(
    probe: { kind: string; bodyContains?: string },
    target: HostTarget,
  ): Promise<ProbeResult> {
    const state = this.versions.get(target.name);
    const healthy =
      state !== undefined &&
      this.clock.now() >= state.readyAt &&
      (probe.bodyContains === undefined || state.version === probe.bodyContains);
    return { healthy, detail: healthy ? 'ok' : `on ${state?.version ?? 'nothing'}` };
  }
}
