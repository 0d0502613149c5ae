import type { Target } from '../../app/store-ports.js';

/** Every key baton uses, under one prefix so that several installations (or tests) share a Redis. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  lock(target: Target): string {
    return `${this.prefix}:lock:${target.service}:${target.environment}`;
  }
  /** A rollout's plan, its progress when its run started, and the sequence of its newest change. */
  checkpoint(id: string): string {
    return `${this.prefix}:rollout:${id}:checkpoint`;
  }
  /** What each transition since the progress was written changed, oldest first. */
  checkpointChanges(id: string): string {
    return `${this.prefix}:rollout:${id}:deltas`;
  }
  /** Where releases before per-step changes kept a rollout's whole state (read, never written). */
  wholeCheckpoint(id: string): string {
    return `${this.prefix}:rollout:${id}:state`;
  }
  updates(id: string): string {
    return `${this.prefix}:rollout:${id}:updates`;
  }
  cancel(id: string): string {
    return `${this.prefix}:rollout:${id}:cancel`;
  }
  gate(id: string, group: string): string {
    return `${this.prefix}:rollout:${id}:gate:${group}`;
  }
  history(target: Target): string {
    return `${this.prefix}:history:${target.service}:${target.environment}`;
  }
  audit(): string {
    return `${this.prefix}:audit`;
  }
  delivery(key: string): string {
    return `${this.prefix}:slack:delivery:${key}`;
  }
  pending(id: string): string {
    return `${this.prefix}:slack:pending:${id}`;
  }
  pendingIds(): string {
    return `${this.prefix}:slack:pending-ids`;
  }
  unlaunchedIds(): string {
    return `${this.prefix}:slack:unlaunched-ids`;
  }
  launch(id: string): string {
    return `${this.prefix}:slack:launch:${id}`;
  }
  schedule(id: string): string {
    return `${this.prefix}:schedule:${id}`;
  }
  /** Where a schedule's changing part (status, who stopped it, what firing starts) is. */
  scheduleState(id: string): string {
    return `${this.prefix}:schedule:${id}:state`;
  }
  scheduleTarget(target: Target): string {
    return `${this.prefix}:schedule-target:${target.service}:${target.environment}`;
  }
  openSchedules(): string {
    return `${this.prefix}:schedules-open`;
  }
  outbox(key: string): string {
    return `${this.prefix}:outbox:${key}`;
  }
  outboxUnsettled(): string {
    return `${this.prefix}:outbox-unsettled`;
  }
  outboxLease(key: string): string {
    return `${this.prefix}:outbox-lease:${key}`;
  }
}
