import type { Announcement, RolloutEvent, RolloutState } from '../core/rollout/index.js';
import type { Target } from './target.js';

export type { Target } from './target.js';
export type { AuditEntry, AuditLog } from './audit.js';

export interface LockHolder {
  /** Secret to the holder: only it can refresh or release the lock. */
  token: string;
  owner: string;
  reason: string;
  since: number;
  rollout?: string;
}

/** A queued rollout holds its lock this long before a worker takes it and starts refreshing it. */
export const QUEUED_LOCK_MS = 10 * 60_000;

export type LockResult = { ok: true } | { ok: false; holder: LockHolder };

export interface LockStore {
  /** Takes the lock, or keeps it if `holder.token` already holds it. */
  acquire(target: Target, holder: LockHolder, ttlMs: number): Promise<LockResult>;
  refresh(target: Target, token: string, ttlMs: number): Promise<boolean>;
  release(target: Target, token: string): Promise<boolean>;
  /** Removes whoever holds the lock, and says who that was. */
  forceRelease(target: Target): Promise<LockHolder | undefined>;
  get(target: Target): Promise<LockHolder | undefined>;
}

/** An update as stored for followers: the state is read from the checkpoint. */
export type StoredUpdate = { worker: string } & (
  | { kind: 'event'; event: RolloutEvent; sequence: number }
  | { kind: 'announcement'; announcement: Announcement; at: number; sequence: number }
  /** The worker did not start the rollout: its hosts could not be reached, or the lock was taken. */
  | {
      kind: 'refused';
      reason: 'cannot_connect' | 'locked' | 'inventory_failed';
      /** What the failures amount to (the failure budget's verdict), when more than a list. */
      summary?: string;
      detail: string[];
      at: number;
    }
  /** The last update: history, audit and any dead-man rollback are recorded, and the lock is free. */
  | { kind: 'finished'; status: RolloutState['status']; at: number }
);

export interface RolloutStore {
  /**
   * Stores a checkpoint. Given `previous`, the checkpoint stored before it (one or several
   * transitions back), only what changed since is written, and only onto that very checkpoint;
   * otherwise the whole progress (and the plan, the first time). False, and nothing stored, when the store holds a newer checkpoint
   * (or, for a change, any other one): another run of the rollout has taken it over.
   * `updates`, what followers are told of this very state, are appended (in order) when it is
   * stored and not otherwise, as `append` would; a change sent again after its answer was lost
   * appends them no second time.
   */
  save(
    state: RolloutState,
    previous?: RolloutState,
    updates?: readonly StoredUpdate[],
  ): Promise<boolean>;
  load(id: string): Promise<RolloutState | undefined>;
  append(id: string, update: StoredUpdate): Promise<void>;
  /** Updates after `cursor` ('0' for all), waiting up to `blockMs` for the first. */
  read(
    id: string,
    cursor: string,
    blockMs: number,
  ): Promise<{ cursor: string; update: StoredUpdate }[]>;
  requestCancel(id: string, by: string): Promise<void>;
  cancelRequestedBy(id: string): Promise<string | undefined>;
  answerGate(id: string, group: string, answer: { continue: boolean; by: string }): Promise<void>;
  gateAnswer(id: string, group: string): Promise<{ continue: boolean; by: string } | undefined>;
}

export interface HistoryEntry extends Target {
  rollout: string;
  kind: 'deploy' | 'rollback' | 'restart';
  version: string;
  previousVersion: string | null;
  by: string;
  startedAt: number;
  finishedAt: number;
  result: RolloutState['status'] | 'cannot_connect';
}

export interface HistoryStore {
  /**
   * Records a finished rollout once: false (and nothing written) if this rollout is already
   * recorded, so a worker that redoes the bookkeeping of a rollout after a crash adds nothing.
   */
  record(entry: HistoryEntry): Promise<boolean>;
  /** Whether this rollout is in the history (looked for among the newest entries kept). */
  recorded(target: Target, rollout: string): Promise<boolean>;
  /** Newest first. */
  list(target: Target, limit: number): Promise<HistoryEntry[]>;
}

/** A rollout store for blocking reads; `release` lets go of what it holds (a connection). */
export type BlockingRollouts = RolloutStore & { release(): void };

/** The store, with `release` beside its methods (which it keeps, through its prototype). */
export const releasable = (store: RolloutStore, release: () => void): BlockingRollouts =>
  Object.assign(Object.create(store) as RolloutStore, { release });
