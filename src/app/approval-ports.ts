import type { ApprovalRequest } from '../core/policy/index.js';
import type { Plan } from '../core/rollout/index.js';

/** What became of an approved request: its rollout was queued, or it could not start. */
export type LaunchResult = { started: true } | { started: false; code: string; message: string };

/** A rollout waiting for someone to approve it, and, once decided, what the decision caused. */
export interface Approval {
  id: string;
  plan: Plan;
  /** Where the request is shown and decided. */
  channel: string;
  request: ApprovalRequest;
  rollbackAfterMs?: number;
  /** The scheduled rollback that asked, whose message says it fired. */
  schedule?: string;
  /** Where the requester is told privately what became of it (a slash command's response URL). */
  replyUrl?: string;
  /**
   * Fixed in the same write as the approval, so that whoever completes the launch (this process,
   * or another after a crash) starts the one rollout; `result` once it has been started or refused.
   */
  launch?: { rollout: string; lockToken: string; result?: LaunchResult };
}

/** Requests and decisions made in chat, durably: nothing decided is lost when a process dies. */
export interface RequestStore {
  /** True the first time a key is seen: a command or click is handled once, however often it comes. */
  firstDelivery(key: string, ttlMs: number): Promise<boolean>;
  /** Stores a new request; false (and nothing changed) if one with its id exists. */
  open(approval: Approval): Promise<boolean>;
  approval(id: string): Promise<Approval | undefined>;
  /** Stores the decided request only if it is still pending; false if another decision won. */
  decide(id: string, decided: Approval): Promise<boolean>;
  /** Every request still pending (to expire those past their time). */
  pending(): Promise<Approval[]>;
  /** Approved requests whose launch has not been settled (a process died in between). */
  unlaunched(): Promise<Approval[]>;
  /** Records what the launch did, once; false if it was already recorded. */
  settleLaunch(id: string, result: LaunchResult): Promise<boolean>;
}
