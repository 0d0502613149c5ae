import type { Announcement, InventoryChange, RolloutState } from '../core/rollout/index.js';
import type { Target } from './target.js';

type Kind = 'deploy' | 'rollback' | 'restart';
type Milestone = Exclude<Announcement['type'], 'rollout.started'>;

interface Requested {
  rollout: string;
  version: string;
  /** An operator confirmed at the terminal an environment that requires approval. */
  confirmed?: true;
}
interface Refused {
  /** A stable refusal code (see Outcome). */
  why: string;
  version?: string;
  lockedBy?: string;
  rollout?: string;
  approval?: string;
  schedule?: string;
}

/**
 * Every action baton audits, with what each records. The same action is written the same way
 * whichever front end (Slack, the terminal, the console, the scheduler) caused it.
 */
export type AuditDetails = {
  [K in `${Kind}.requested`]: Requested;
} & {
  [K in `${Kind}.refused`]: Refused;
} & {
  [K in Milestone]: { rollout: string } & Omit<Extract<Announcement, { type: K }>, 'type'>;
} & {
  'approval.requested': { approval: string; version: string; kind: Kind };
  'approval.approved': { approval: string; version: string; requestedBy: string };
  'approval.rejected': { approval: string; version: string; requestedBy: string };
  'approval.withdrawn': { approval: string; version: string; requestedBy: string };
  'approval.expired': { approval: string; requestedBy: string };
  'approval.approve_refused': Refused;
  'approval.reject_refused': Refused;
  'approval.withdraw_refused': Refused;
  'rollout.cancel_requested': { rollout: string };
  'rollout.cancel_refused': Refused;
  'rollout.continue_refused': Refused;
  'rollout.abort_refused': Refused;
  'gate.continued': { rollout: string; group: string };
  'gate.aborted': { rollout: string; group: string };
  'rollout.started': {
    rollout: string;
    version: string;
    worker: string;
    /** Hosts left out: pre-flight could not connect to them (within max_unreachable), or gone from an inventory. */
    notUpdated?: string[];
    /** Groups whose inventory (hosts_from) lists other hosts than when the rollout was planned. */
    inventoryChanges?: InventoryChange[];
    /** Hosts left out: already healthy on the version. */
    skipped?: string[];
    /** Hosts whose version could not be read, each with why. */
    unread?: string[];
  };
  'rollout.resumed': { rollout: string; sequence: number };
  'rollout.suspended': { rollout: string; why: string; attempt: number; attempts: number };
  'rollout.gave_up': { rollout: string; why: string };
  'rollout.finished': {
    rollout: string;
    result: RolloutState['status'] | 'cannot_connect';
    version: string;
    notUpdated?: string[];
  };
  'schedule.created': {
    schedule: string;
    runAt: number;
    version?: string;
    reason: 'scheduled' | 'rollback-after';
  };
  'schedule.refused': Refused;
  'schedule.cancelled': { schedule: string };
  'schedule.kept': { schedule: string };
  'schedule.cancel_refused': Refused;
  'schedule.keep_refused': Refused;
  'schedule.replaced': { schedule: string; by: string };
  'schedule.fired': {
    schedule: string;
    version: string;
    due: number;
    rollout?: string;
    approval?: string;
  };
  'schedule.skipped': { schedule: string; why: string };
  'lock.taken': { reason: string; ttlMs: number };
  'lock.released': { holder: string; reason: string; forced: boolean };
  'lock.refused': Refused;
  'unlock.refused': Refused;
};

export type AuditAction = keyof AuditDetails;

/** One line of the audit log: who did what, to which service and environment, and when. */
export type AuditEntry = {
  [A in AuditAction]: {
    at: number;
    actor: string;
    action: A;
    target?: Target;
    detail: AuditDetails[A];
  };
}[AuditAction];

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  recent(limit: number): Promise<AuditEntry[]>;
}

/** An audit entry, checked against its action's detail. */
export function auditEntry<A extends AuditAction>(
  action: A,
  entry: { at: number; actor: string; target?: Target; detail: AuditDetails[A] },
): AuditEntry {
  return { action, ...entry } as AuditEntry;
}
