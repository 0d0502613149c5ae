import type { ApprovalRefusal } from '../../core/policy/index.js';
import type { PlanErrorCode } from '../../core/rollout/index.js';

/** Why a use case did nothing (or less than asked): stable codes that front ends may rely on. */
export type RefusalCode =
  | PlanErrorCode
  | ApprovalRefusal
  | 'no_playbook'
  | 'broken_playbook'
  | 'not_deployer'
  | 'locked'
  | 'no_running_version'
  | 'no_rollback_version'
  | 'confirmation_needed'
  | 'unknown_request'
  | 'decided_meanwhile'
  | 'unknown_rollout'
  | 'not_running'
  | 'no_gate'
  | 'no_previous_version'
  | 'unknown_schedule'
  | 'schedule_settled'
  | 'already_scheduled'
  | 'nothing_to_keep'
  | 'lock_held_by_rollout'
  | 'lock_held_by_other'
  | 'lock_changed'
  | 'inventory_failed'
  | 'rollback_after_with_filter';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  /** What was wrong, for a person (chat markup, user text escaped). */
  message: string;
  /** How to fix it, when there is a way. */
  hint?: string;
}

export type Success<Code extends string, Data = object> = {
  ok: true;
  code: Code;
  message: string;
} & Data;

/** What a use case did, or why it did not: front ends render it, they decide nothing. */
export type Outcome<Code extends string, Data = object> = Success<Code, Data> | Refusal;

export function refusal(code: RefusalCode, message: string, hint?: string): Refusal {
  return { ok: false, code, message, ...(hint === undefined ? {} : { hint }) };
}
