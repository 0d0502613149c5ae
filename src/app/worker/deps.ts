import type { InventorySource } from '../inventory-ports.js';
import type { AuditLog } from '../audit.js';
import type { OutboxStore } from '../outbox/ports.js';
import type { Clock, ControllerShell, HealthProbe, RemoteExecutor } from '../ports.js';
import type { RolloutQueue } from '../queue-ports.js';
import type { ScheduleStore } from '../schedule-ports.js';
import type { HistoryStore, LockStore, RolloutStore } from '../store-ports.js';
import type { RolloutRun } from './run-rollout.js';

/** Counts for the operations endpoint; each rollout is counted once, by the worker recording it. */
export interface RolloutMetrics {
  rolloutFinished(kind: string, result: string, durationMs: number): void;
  groupFinished(durationMs: number): void;
  healthCheckFailed(): void;
}

export interface WorkerDeps {
  worker: string;
  executor: RemoteExecutor;
  /** Runs hooks `on: controller`, here on the worker's machine. */
  controller: ControllerShell;
  health: HealthProbe;
  clock: Clock;
  locks: LockStore;
  rollouts: RolloutStore;
  history: HistoryStore;
  audit: AuditLog;
  schedules: ScheduleStore;
  queue: RolloutQueue;
  outbox: OutboxStore;
  /** How long a rollout's lock lives without being refreshed. */
  lockTtlMs: number;
  /** How often to look for a cancel request or a gate answer. */
  pollMs: number;
  /** Runs in progress in this process, so that shutting down can suspend them. */
  active: Set<RolloutRun>;
  /** Says something went wrong that the rollout survives (an update that could not be stored). */
  warn(message: string): void;
  /** Says what a person reading the log wants to know: a rollout ended, and how. */
  say?(message: string): void;
  metrics?: RolloutMetrics;
  /** Runs hosts_from commands again as a rollout starts; absent, the planned hosts are used. */
  inventory?: InventorySource;
}

/**
 * `finished`: it ended (history, audit and lock done); `refused`: it could not start;
 * `suspended`: it stopped part-way and a later attempt resumes it from its checkpoint.
 */
export type JobOutcome =
  { kind: 'finished' } | { kind: 'refused' } | { kind: 'suspended'; reason: string };
