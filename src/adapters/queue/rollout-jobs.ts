import { z } from 'zod';
import { PlanSchema } from '../../core/rollout/index.js';

/** What a rollout job carries; checked with zod when it is added and when a worker takes it. */
export const RolloutJobSchema = z.object({
  rollout: z.string().min(1),
  plan: PlanSchema,
  requestedBy: z.string().min(1),
  /** The lock token the rollout holds its service+environment with. */
  lockToken: z.string().min(1),
});

export type RolloutJob = z.infer<typeof RolloutJobSchema>;
