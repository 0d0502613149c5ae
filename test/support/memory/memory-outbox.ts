import type { Clock } from '../../../src/app/ports.js';
import type {
  DeliveryState,
  MessageView,
  OutboxMessage,
  OutboxRecord,
  OutboxStore,
} from '../../../src/app/outbox/ports.js';

/** The outbox in memory, for tests; it passes the OutboxStore contract suite. */
export class InMemoryOutbox implements OutboxStore {
  readonly records = new Map<string, OutboxRecord>();
  private readonly leases = new Map<string, { owner: string; until: number }>();

  constructor(private readonly clock: Clock) {}

  async add(message: OutboxMessage): Promise<boolean> {
    if (this.records.has(message.key)) return false;
    this.records.set(message.key, {
      ...structuredClone(message),
      notBefore: 0,
      attempts: 0,
      settled: false,
    });
    return true;
  }

  async change(key: string, view: MessageView): Promise<void> {
    const found = this.records.get(key);
    if (found === undefined) return;
    found.view = structuredClone(view);
    found.settled = false;
  }

  async get(key: string): Promise<OutboxRecord | undefined> {
    const found = this.records.get(key);
    return found === undefined ? undefined : structuredClone(found);
  }

  async unsettled(limit: number): Promise<OutboxRecord[]> {
    return [...this.records.values()]
      .filter((record) => !record.settled)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map((record) => structuredClone(record));
  }

  async claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const lease = this.leases.get(key);
    if (lease !== undefined && lease.until > now && lease.owner !== owner) return false;
    this.leases.set(key, { owner, until: now + ttlMs });
    return true;
  }

  async record(key: string, delivery: DeliveryState, view: MessageView): Promise<void> {
    const found = this.records.get(key);
    if (found === undefined) return;
    const same = JSON.stringify(found.view) === JSON.stringify(view);
    const { ref, sent, notBefore, attempts, error, toldRequester } = structuredClone(delivery);
    Object.assign(found, { notBefore, attempts, settled: delivery.settled && same });
    if (ref !== undefined) found.ref = ref;
    if (sent !== undefined) found.sent = sent;
    if (error !== undefined) found.error = error;
    else delete found.error;
    if (toldRequester !== undefined) found.toldRequester = toldRequester;
  }
}
