import { z } from 'zod';
import { PlanSchema } from '../core/rollout/index.js';
import type { Target } from './target.js';

/** What a rollout job carries; checked with zod when it is added and when a worker takes it. */
export const RolloutJobSchema = z.object({
  rollout: z.string().min(1),
  plan: PlanSchema,
  requestedBy: z.string().min(1),
  /** The lock token the rollout holds its service+environment with. */
  lockToken: z.string().min(1),
  /** Dead-man deploy: once it succeeds, roll back after this long unless someone keeps it. */
  rollbackAfterMs: z.int().positive().optional(),
  /** The chat channel that follows it, when it was asked for in chat. */
  channel: z.string().min(1).optional(),
});

export type RolloutJob = z.infer<typeof RolloutJobSchema>;

/** A rollback to run later. Its id is unique: each one is listed and cancelled on its own. */
export const ScheduledRollbackSchema = z.object({
  id: z.string().min(1),
  service: z.string().min(1),
  environment: z.string().min(1),
  /** Absent: the newest good version other than the one running when it fires. */
  version: z.string().optional(),
  runAt: z.int(),
  requestedBy: z.string().min(1),
  /** Why it exists: asked for, or the dead-man switch of `deploy --rollback-after`. */
  reason: z.enum(['scheduled', 'rollback-after']),
  /** The chat channel that hears about it when it fires. */
  channel: z.string().min(1).optional(),
  /** The rollout whose dead-man switch this is, under whose message its Keep button is. */
  rollout: z.string().min(1).optional(),
});

export type ScheduledRollback = z.infer<typeof ScheduledRollbackSchema>;

/** The id of a dead-man rollback: one per rollout, so recording a finish twice adds nothing. */
export function keepId(rollout: string): string {
  return `keep-${rollout}`;
}

/** The id of a rollback someone asked for: readable in `baton schedules`, and never shared. */
export function scheduledRollbackId(target: Target, unique: string): string {
  return `rollback-${target.service}-${target.environment}-${unique.replaceAll('-', '').slice(0, 8)}`;
}
