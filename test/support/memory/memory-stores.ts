import type { Clock } from '../../../src/app/ports.js';
import type {
  AuditEntry,
  AuditLog,
  HistoryEntry,
  HistoryStore,
  LockHolder,
  LockResult,
  LockStore,
  RolloutStore,
  StoredUpdate,
  Target,
} from '../../../src/app/store-ports.js';
import {
  applyChange,
  changeBetween,
  type RolloutState,
  type StateChange,
} from '../../../src/core/rollout/index.js';

const keyOf = (target: Target) => `${target.service}:${target.environment}`;

/** The store ports in memory, on a given clock, for tests; they pass the same contract suites. */
export class InMemoryLockStore implements LockStore {
  private readonly locks = new Map<string, { holder: LockHolder; expiresAt: number }>();
  constructor(private readonly clock: Clock) {}

  private live(target: Target) {
    const entry = this.locks.get(keyOf(target));
    if (entry !== undefined && entry.expiresAt <= this.clock.now())
      this.locks.delete(keyOf(target));
    return this.locks.get(keyOf(target));
  }
  async acquire(target: Target, holder: LockHolder, ttlMs: number): Promise<LockResult> {
    const current = this.live(target);
    if (current !== undefined && current.holder.token !== holder.token)
      return { ok: false, holder: current.holder };
    this.locks.set(keyOf(target), { holder, expiresAt: this.clock.now() + ttlMs });
    return { ok: true };
  }
  async refresh(target: Target, token: string, ttlMs: number): Promise<boolean> {
    const current = this.live(target);
    if (current?.holder.token !== token) return false;
    current.expiresAt = this.clock.now() + ttlMs;
    return true;
  }
  async release(target: Target, token: string): Promise<boolean> {
    if (this.live(target)?.holder.token !== token) return false;
    return this.locks.delete(keyOf(target));
  }
  async forceRelease(target: Target): Promise<LockHolder | undefined> {
    const current = this.live(target);
    this.locks.delete(keyOf(target));
    return current?.holder;
  }
  async get(target: Target): Promise<LockHolder | undefined> {
    return this.live(target)?.holder;
  }
}

export class InMemoryRolloutStore implements RolloutStore {
  readonly states = new Map<string, RolloutState>();
  readonly updates = new Map<string, StoredUpdate[]>();
  readonly cancels = new Map<string, string>();
  readonly gates = new Map<string, { continue: boolean; by: string }>();
  private readonly lastChange = new Map<string, string>();

  async save(
    state: RolloutState,
    previous?: RolloutState,
    updates: readonly StoredUpdate[] = [],
  ): Promise<boolean> {
    const saved = await this.store(state, previous);
    if (saved === 'stored') for (const update of updates) await this.append(state.id, update);
    return saved !== 'refused';
  }
  private async store(
    state: RolloutState,
    previous?: RolloutState,
  ): Promise<'stored' | 'already' | 'refused'> {
    const current = this.states.get(state.id);
    if (previous !== undefined && previous.sequence < state.sequence) {
      // Through JSON, as the other stores write it.
      const text = JSON.stringify(changeBetween(previous, state));
      if (current?.sequence === state.sequence && this.lastChange.get(state.id) === text)
        return 'already';
      if (current?.sequence !== previous.sequence) return 'refused';
      this.states.set(state.id, applyChange(current, JSON.parse(text) as StateChange));
      this.lastChange.set(state.id, text);
      return 'stored';
    }
    if (current !== undefined && current.sequence > state.sequence) return 'refused';
    this.states.set(state.id, structuredClone(state));
    return 'stored';
  }
  async load(id: string): Promise<RolloutState | undefined> {
    return this.states.get(id);
  }
  async append(id: string, update: StoredUpdate): Promise<void> {
    this.updates.set(id, [...(this.updates.get(id) ?? []), update]);
  }
  async read(id: string, cursor: string): Promise<{ cursor: string; update: StoredUpdate }[]> {
    return (this.updates.get(id) ?? [])
      .slice(Number(cursor))
      .map((update, index) => ({ cursor: String(Number(cursor) + index + 1), update }));
  }
  async requestCancel(id: string, by: string): Promise<void> {
    if (!this.cancels.has(id)) this.cancels.set(id, by);
  }
  async cancelRequestedBy(id: string): Promise<string | undefined> {
    return this.cancels.get(id);
  }
  async answerGate(
    id: string,
    group: string,
    answer: { continue: boolean; by: string },
  ): Promise<void> {
    if (!this.gates.has(`${id}:${group}`)) this.gates.set(`${id}:${group}`, answer);
  }
  async gateAnswer(
    id: string,
    group: string,
  ): Promise<{ continue: boolean; by: string } | undefined> {
    return this.gates.get(`${id}:${group}`);
  }
}

export class InMemoryHistory implements HistoryStore, AuditLog {
  readonly entries: HistoryEntry[] = [];
  readonly audit: AuditEntry[] = [];

  async record(entry: HistoryEntry): Promise<boolean> {
    if (await this.recorded(entry, entry.rollout)) return false;
    this.entries.unshift(entry);
    return true;
  }
  async recorded(target: Target, rollout: string): Promise<boolean> {
    return this.entries.some(
      (entry) => keyOf(entry) === keyOf(target) && entry.rollout === rollout,
    );
  }
  async list(target: Target, limit: number): Promise<HistoryEntry[]> {
    return this.entries.filter((entry) => keyOf(entry) === keyOf(target)).slice(0, limit);
  }
  async append(entry: AuditEntry): Promise<void> {
    this.audit.unshift(entry);
  }
  async recent(limit: number): Promise<AuditEntry[]> {
    return this.audit.slice(0, limit);
  }
}
