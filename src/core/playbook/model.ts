/** A validated playbook in the shape the planner uses: durations in ms, hosts resolved. */

export type FailurePolicy = 'rollback_group' | 'rollback_all' | 'halt';

/** A host an SSH connection goes through on its way to a target (a bastion). */
export interface JumpHost {
  /** As written (an address, or an alias of the ssh config); used in messages. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** A private key of its own (from the ssh config); else baton's. */
  identityFile?: string;
}

export interface Host {
  /** Unique within an environment; used in events and messages. */
  name: string;
  address: string;
  port: number;
  /** Absent: the playbook's ssh.user. */
  user?: string;
  identityFile?: string;
  /** Outermost first; absent or empty: connected to directly. */
  jump?: JumpHost[];
}

export interface Step {
  name: string;
  run: string;
  timeoutMs: number;
}

/** A step that runs around each host's steps, somewhere else: the worker's machine or another host. */
export interface HookStep extends Step {
  on: 'controller' | Host;
}

export type HealthCheck = (
  | { kind: 'http'; url: string; status: number; bodyContains?: string; requestTimeoutMs: number }
  | { kind: 'tcp'; port: number; connectTimeoutMs: number }
  | { kind: 'command'; run: string; commandTimeoutMs: number }
) & { intervalMs: number; timeoutMs: number; successes: number };

/** A command that lists a group's hosts, and how they are reached unless an entry says otherwise. */
export interface Inventory {
  command: string;
  timeoutMs: number;
  /** The jump hosts the group inherits (its own ssh.jump, its environment's, the playbook's). */
  jump?: JumpHost[];
}
export type VersionSource =
  { kind: 'command'; run: string; timeoutMs: number } | { kind: 'from_health'; pattern: string };

export interface Group {
  name: string;
  /** Empty while an inventory has not been run: the app fills them in before planning. */
  hosts: Host[];
  inventory?: Inventory;
  parallel: number;
  verify?: { run: string; timeoutMs: number };
  gate: 'auto' | 'manual';
}

export interface Approval {
  required: boolean;
  /** Absent: anyone but the requester may approve. */
  approvers?: string[];
  expiresMs: number;
}

/** Unreachable hosts a rollout may leave out: a count, or a whole percentage of its hosts. */
export type UnreachableBudget = { count: number } | { percent: number };

export interface Environment {
  name: string;
  /** Absent: anyone may deploy. */
  deployers?: string[];
  /** Absent: none (an unreachable host refuses the rollout). */
  maxUnreachable?: UnreachableBudget;
  approval: Approval;
  groups: Group[];
}

export interface Playbook {
  service: string;
  description?: string;
  versionPattern: string;
  defaultEnvironment?: string;
  /** `config`: the ssh config file the hosts were resolved with, as written. */
  ssh: { user: string; port: number; config?: string };
  steps: Step[];
  /** Run before each host's steps and after it is healthy; absent: none. */
  beforeHost?: HookStep[];
  afterHost?: HookStep[];
  health: HealthCheck;
  /** How the version each host runs is read; absent: it is not. */
  version?: VersionSource;
  /** With `version`: hosts already healthy on the version deployed are left out. */
  skipCurrent: boolean;
  onFailure: FailurePolicy;
  environments: Environment[];
}
