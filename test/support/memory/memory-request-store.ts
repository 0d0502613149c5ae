import type { Approval, LaunchResult, RequestStore } from '../../../src/app/approval-ports.js';
import type { Clock } from '../../../src/app/ports.js';

/** The request store in memory, for tests; it passes the RequestStore contract suite. */
export class InMemoryRequestStore implements RequestStore {
  private readonly deliveries = new Map<string, number>();
  private readonly approvals = new Map<string, Approval>();
  private readonly launches = new Map<string, LaunchResult>();

  constructor(private readonly clock: Clock) {}

  async firstDelivery(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const until = this.deliveries.get(key);
    if (until !== undefined && until > now) return false;
    this.deliveries.set(key, now + ttlMs);
    return true;
  }

  async open(approval: Approval): Promise<boolean> {
    if (this.approvals.has(approval.id)) return false;
    this.approvals.set(approval.id, structuredClone(approval));
    return true;
  }

  async approval(id: string): Promise<Approval | undefined> {
    const found = this.approvals.get(id);
    if (found === undefined) return undefined;
    const copy = structuredClone(found);
    const result = this.launches.get(id);
    if (result !== undefined && copy.launch !== undefined) copy.launch.result = result;
    return copy;
  }

  async decide(id: string, decided: Approval): Promise<boolean> {
    if (this.approvals.get(id)?.request.status !== 'pending') return false;
    this.approvals.set(id, structuredClone(decided));
    return true;
  }

  async pending(): Promise<Approval[]> {
    return [...this.approvals.values()]
      .filter((approval) => approval.request.status === 'pending')
      .map((approval) => structuredClone(approval));
  }

  async unlaunched(): Promise<Approval[]> {
    return [...this.approvals.values()]
      .filter(
        (approval) =>
          approval.request.status === 'approved' &&
          approval.launch !== undefined &&
          !this.launches.has(approval.id),
      )
      .map((approval) => structuredClone(approval));
  }

  async settleLaunch(id: string, result: LaunchResult): Promise<boolean> {
    if (this.launches.has(id)) return false;
    this.launches.set(id, structuredClone(result));
    return true;
  }
}
