import type {
  ChannelNotice,
  ChatOpsStore,
  MessageRef,
  PendingRollout,
  ReportedRollout,
} from '../../../src/app/chatops/ports.js';
import type { Clock } from '../../../src/app/ports.js';

/** The chat use cases' store in memory, for tests; it passes the ChatOpsStore contract suite. */
export class InMemoryChatOpsStore implements ChatOpsStore {
  private readonly deliveries = new Map<string, number>();
  private readonly pendings = new Map<string, PendingRollout>();
  private readonly reported = new Map<string, ReportedRollout>();
  private readonly leases = new Map<string, { owner: string; until: number }>();
  private readonly scheduleMessages = new Map<string, MessageRef>();
  private readonly notices: ChannelNotice[] = [];

  constructor(private readonly clock: Clock) {}

  async firstDelivery(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const until = this.deliveries.get(key);
    if (until !== undefined && until > now) return false;
    this.deliveries.set(key, now + ttlMs);
    return true;
  }

  async savePending(pending: PendingRollout): Promise<void> {
    this.pendings.set(pending.id, structuredClone(pending));
  }

  async pending(id: string): Promise<PendingRollout | undefined> {
    const found = this.pendings.get(id);
    return found === undefined ? undefined : structuredClone(found);
  }

  async decide(id: string, decided: PendingRollout): Promise<boolean> {
    if (this.pendings.get(id)?.request.status !== 'pending') return false;
    this.pendings.set(id, structuredClone(decided));
    return true;
  }

  async allPending(): Promise<PendingRollout[]> {
    return [...this.pendings.values()]
      .filter((pending) => pending.request.status === 'pending')
      .map((pending) => structuredClone(pending));
  }

  async report(entry: ReportedRollout): Promise<void> {
    this.reported.set(entry.rollout, structuredClone(entry));
  }

  async reports(): Promise<ReportedRollout[]> {
    return [...this.reported.values()].map((entry) => structuredClone(entry));
  }

  async claimReport(rollout: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const lease = this.leases.get(rollout);
    if (lease !== undefined && lease.until > now && lease.owner !== owner) return false;
    this.leases.set(rollout, { owner, until: now + ttlMs });
    return true;
  }

  async reportDone(rollout: string): Promise<void> {
    this.reported.delete(rollout);
    this.leases.delete(rollout);
  }

  async addNotice(notice: ChannelNotice): Promise<void> {
    this.notices.push(structuredClone(notice));
  }

  async takeNotices(): Promise<ChannelNotice[]> {
    return this.notices.splice(0);
  }

  async scheduleMessage(id: string): Promise<MessageRef | undefined> {
    return this.scheduleMessages.get(id);
  }

  async rememberScheduleMessage(id: string, ref: MessageRef): Promise<void> {
    this.scheduleMessages.set(id, ref);
  }
}
