import type { Probe } from '../core/rollout/index.js';

/** A host on the way to a target (a bastion): the connection to the target goes through it. */
export interface JumpTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  identityFile?: string;
}

/** Where a command runs: a host of the plan and the account to log in as. */
export interface HostTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** A private key of its own; else the executor's. */
  identityFile?: string;
  /** Outermost first; absent or empty: connected to directly. */
  jump?: JumpTarget[];
}

export interface CommandResult {
  /** null when the command did not exit by itself (killed, or the connection dropped). */
  exitCode: number | null;
  timedOut: boolean;
  /** The last few KiB of each stream, for reports. */
  stdoutTail: string;
  stderrTail: string;
  durationMs: number;
}

export type ConnectionFailure =
  | 'no_credentials'
  | 'host_key_unknown'
  | 'host_key_mismatch'
  | 'host_key_revoked'
  | 'unreachable'
  | 'auth_failed'
  | 'timeout'
  | 'lost';

/** The host could not be reached or trusted: nothing ran there. */
export class ConnectionError extends Error {
  constructor(
    readonly code: ConnectionFailure,
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/**
 * The executor was closed (its worker is stopping) before it reached the host: nothing is known
 * of the host, so a rollout that meets this, before it starts or during its run, suspends for
 * another attempt instead of taking it for a host that failed.
 */
export class ExecutorClosedError extends ConnectionError {
  constructor(host: string, message: string) {
    super('lost', host, message);
    this.name = 'ExecutorClosedError';
  }
}

/** A connection failure that says something of the host: not its executor closing under it. */
export function isHostFailure(error: unknown): error is ConnectionError {
  return error instanceof ConnectionError && !(error instanceof ExecutorClosedError);
}

/** Runs planned commands on hosts. Commands arrive already quoted; the executor adds nothing of the user's. */
export interface RemoteExecutor {
  /** Opens (or reuses) the connection, verifying the host key; throws ConnectionError. */
  connect(target: HostTarget): Promise<void>;
  /** Runs one command; a timeout stops it on the host and is reported as `timedOut`. */
  run(target: HostTarget, command: string, options: { timeoutMs: number }): Promise<CommandResult>;
  close(): Promise<void>;
}

/**
 * Runs a hook's command on the worker's own machine (to drain a host at a load balancer's API,
 * say). Commands arrive already quoted, like a RemoteExecutor's.
 */
export interface ControllerShell {
  /** A command that cannot even start resolves with exitCode null and why in stderrTail. */
  run(command: string, options: { timeoutMs: number }): Promise<CommandResult>;
}

export interface ProbeResult {
  healthy: boolean;
  detail: string;
  /** An http check's response body, when there was one (the host's version may be read from it). */
  body?: string;
}

/** One health check attempt against one host. */
export interface HealthProbe {
  check(probe: Probe, target: HostTarget, signal: AbortSignal): Promise<ProbeResult>;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
