import { z } from 'zod';
import { PlanSchema } from './plan.js';

/**
 * The rollout's whole state as plain JSON, checkpointed after every transition. Bump
 * STATE_SCHEMA_VERSION on any incompatible change and teach parseRolloutState to migrate.
 */
export const STATE_SCHEMA_VERSION = 1;

export const PassSchema = z.enum(['forward', 'rollback']);

/** `stopped`: left part-way (after its current step) because the group failed or was cancelled. */
export const HostPhaseSchema = z.enum([
  'pending',
  'running',
  'checking',
  'healthy',
  'failed',
  'stopped',
]);

export const HostStateSchema = z.object({
  name: z.string(),
  pass: PassSchema,
  phase: HostPhaseSchema,
  /** The step running now, or the next one to run. */
  step: z.int().min(0),
  /** A forward step has started here, so the host may no longer be on the old version. */
  touched: z.boolean(),
  error: z.string().optional(),
});

export const GroupPhaseSchema = z.enum([
  'pending',
  'deploying',
  'verifying',
  'awaiting_gate',
  'healthy',
  'draining',
  'rolling_back',
  'rollback_draining',
  'rolled_back',
  'failed',
  'rollback_failed',
]);

export const GroupStateSchema = z.object({
  name: z.string(),
  phase: GroupPhaseSchema,
  hosts: z.array(HostStateSchema),
  /** Host names in the order the current pass takes them. */
  order: z.array(z.string()),
  startedAt: z.int().optional(),
  finishedAt: z.int().optional(),
});

export const FailureReasonSchema = z.enum([
  'step_failed',
  'step_timed_out',
  'health_failed',
  'health_timed_out',
  'verify_failed',
  'cancelled',
]);

export const FailureSchema = z.object({
  group: z.string(),
  host: z.string().optional(),
  reason: FailureReasonSchema,
  detail: z.string(),
  at: z.int(),
});

export const RolloutStatusSchema = z.enum([
  'running',
  'awaiting_gate',
  'draining',
  'rolling_back',
  'succeeded',
  'rolled_back',
  'halted',
  'rollback_failed',
  /** baton could not go on (its store kept failing): the hosts are left as they are, for a person. */
  'gave_up',
]);

export const TERMINAL_STATUSES = [
  'succeeded',
  'rolled_back',
  'halted',
  'rollback_failed',
  'gave_up',
] as const;

export const RolloutStateSchema = z.object({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  id: z.string().min(1),
  plan: PlanSchema,
  status: RolloutStatusSchema,
  groups: z.array(GroupStateSchema),
  /** Indexes of groups still to roll back, in order (the failed group first, then older ones). */
  rollbackQueue: z.array(z.int().min(0)),
  failure: FailureSchema.optional(),
  rollbackFailure: FailureSchema.optional(),
  cancel: z.object({ by: z.string(), at: z.int() }).optional(),
  /** Why baton stopped trying, when it gave up. */
  gaveUp: z.object({ reason: z.string(), at: z.int() }).optional(),
  /** Transitions applied so far; a checkpoint with a lower number is older. */
  sequence: z.int().min(0),
  startedAt: z.int(),
  updatedAt: z.int(),
  finishedAt: z.int().optional(),
});

export type Pass = z.infer<typeof PassSchema>;
export type HostState = z.infer<typeof HostStateSchema>;
export type GroupPhase = z.infer<typeof GroupPhaseSchema>;
export type GroupState = z.infer<typeof GroupStateSchema>;
export type Failure = z.infer<typeof FailureSchema>;
export type FailureReason = z.infer<typeof FailureReasonSchema>;
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;
export type RolloutState = z.infer<typeof RolloutStateSchema>;

export function isTerminal(status: RolloutStatus): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export type ParsedState = { ok: true; state: RolloutState } | { ok: false; message: string };

/** Reads a checkpoint back, refusing anything that is not a state this version understands. */
export function parseRolloutState(data: unknown): ParsedState {
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== STATE_SCHEMA_VERSION) {
    return {
      ok: false,
      message: `checkpoint has schema version ${String(version)}; this baton reads ${STATE_SCHEMA_VERSION}`,
    };
  }
  const parsed = RolloutStateSchema.safeParse(data);
  if (parsed.success) return { ok: true, state: parsed.data };
  return {
    ok: false,
    message: `checkpoint is not a valid rollout state: ${z.prettifyError(parsed.error)}`,
  };
}

/**
 * The end of a rollout that baton cannot take further: every group and host stays as the last
 * checkpoint left it, so a person can see where each one is.
 */
export function giveUp(state: RolloutState, reason: string, at: number): RolloutState {
  if (isTerminal(state.status)) return state;
  return {
    ...state,
    status: 'gave_up',
    gaveUp: { reason, at },
    sequence: state.sequence + 1,
    updatedAt: Math.max(state.updatedAt, at),
    finishedAt: Math.max(state.updatedAt, at),
  };
}
