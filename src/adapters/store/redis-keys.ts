import type { Target } from '../../app/store-ports.js';

/** Every key baton uses, under one prefix so that several installations (or tests) share a Redis. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  lock(target: Target): string {
    return `${this.prefix}:lock:${target.service}:${target.environment}`;
  }
  checkpoint(id: string): string {
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
  reports(): string {
    return `${this.prefix}:slack:reports`;
  }
  reportLease(rollout: string): string {
    return `${this.prefix}:slack:report-lease:${rollout}`;
  }
  notices(): string {
    return `${this.prefix}:slack:notices`;
  }
  scheduleMessage(id: string): string {
    return `${this.prefix}:slack:schedule-message:${id}`;
  }
}
