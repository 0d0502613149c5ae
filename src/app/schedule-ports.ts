import type { ScheduledRollback } from './jobs.js';

/**
 * `pending` until it fires or someone stops it. `firing`: a worker took it and fixed the ids of
 * what it starts (so a retry after a crash starts the same); then `fired` or `skipped`.
 * `replaced`: a later deploy's dead-man switch took its place.
 */
export type ScheduleStatus =
  'pending' | 'firing' | 'fired' | 'skipped' | 'cancelled' | 'kept' | 'replaced';

export const OPEN_SCHEDULE: readonly ScheduleStatus[] = ['pending', 'firing'];

export interface ScheduleRecord extends ScheduledRollback {
  status: ScheduleStatus;
  /** Who stopped it, or why it did not run, and when. */
  settled?: { by: string; at: number; why?: string };
  /** What firing starts: a rollout (with its lock token) or, where approval is needed, a request. */
  firing?: { rollout: string; lockToken: string; approval: string };
}

export type ScheduleCreated =
  /** `added` is false when a rollback with this id was there already. */
  | { ok: true; added: boolean; replaced: ScheduleRecord[] }
  | { ok: false; existing: ScheduleRecord };

/** Scheduled rollbacks as records, whatever the queue does with their timers. */
export interface ScheduleStore {
  /**
   * Adds a pending rollback. A target has at most one open at a time: unless `replace` is set
   * (a dead-man switch takes the place of earlier ones, which become `replaced`), a second is
   * refused and the one there is returned. Adding an id that exists changes nothing.
   */
  create(
    schedule: ScheduledRollback,
    options: { replace: boolean; at: number; by: string },
  ): Promise<ScheduleCreated>;
  get(id: string): Promise<ScheduleRecord | undefined>;
  /** Open ones (pending or firing), soonest first. */
  open(): Promise<ScheduleRecord[]>;
  /**
   * Moves a rollback that is in one of `from` to `change`'s status; the record after the change,
   * or undefined when it was in none of them (another process moved it first).
   */
  transition(
    id: string,
    from: readonly ScheduleStatus[],
    change: Pick<ScheduleRecord, 'status'> & Partial<Pick<ScheduleRecord, 'settled' | 'firing'>>,
  ): Promise<ScheduleRecord | undefined>;
}
