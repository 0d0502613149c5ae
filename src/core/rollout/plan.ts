import { z } from 'zod';
import { FAILURE_POLICIES } from '../playbook/schema.js';

/**
 * A plan is everything a worker needs to run a rollout, with every value already substituted and
 * quoted: it is stored inside each checkpoint so a resumed rollout runs exactly what was approved.
 */

/** A host the connection to a planned host goes through (a bastion). */
export const PlannedJumpSchema = z.object({
  name: z.string(),
  address: z.string(),
  port: z.int(),
  user: z.string(),
  identityFile: z.string().optional(),
});

/**
 * How a host is reached: the host a rollout changes, and a host a hook runs on instead (a load
 * balancer, say). `user` and `identityFile` are optional so that older checkpoints still read.
 */
const PlannedReachSchema = z.object({
  name: z.string(),
  address: z.string(),
  port: z.int(),
  /** Absent: the plan's sshUser. */
  user: z.string().optional(),
  identityFile: z.string().optional(),
  /** Outermost first; absent: connected to directly. */
  jump: z.array(PlannedJumpSchema).optional(),
});

/** A host a hook runs on instead of the host being changed. */
export const PlannedElsewhereSchema = PlannedReachSchema;

export const PlannedStepSchema = z.object({
  name: z.string(),
  command: z.string(),
  timeoutMs: z.int().positive(),
  /** Absent: on the host itself. `controller`: on the worker's machine (a hook). */
  on: z.union([z.literal('controller'), PlannedElsewhereSchema]).optional(),
});

export const ProbeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('http'),
    url: z.string(),
    status: z.int(),
    bodyContains: z.string().optional(),
    requestTimeoutMs: z.int().positive(),
  }),
  z.object({
    kind: z.literal('tcp'),
    address: z.string(),
    port: z.int(),
    connectTimeoutMs: z.int().positive(),
  }),
  z.object({ kind: z.literal('command'), command: z.string(), timeoutMs: z.int().positive() }),
]);

/** What runs on one host to move it to a version, and how to tell it is healthy there. */
export const HostProcedureSchema = z.object({
  version: z.string(),
  /** The before_host hooks, then the playbook's steps: the health check follows them. */
  steps: z.array(PlannedStepSchema),
  /** The after_host hooks, run once the host is healthy; the host counts as busy until they end. */
  after: z.array(PlannedStepSchema).optional(),
  probe: ProbeSchema,
  verify: PlannedStepSchema.optional(),
});

export const PlannedHostSchema = PlannedReachSchema.extend({
  /** How pre-flight reads the version the host runs (the playbook's `version`). */
  readVersion: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('command'), command: z.string(), timeoutMs: z.int().positive() }),
      z.object({ kind: z.literal('from_health'), pattern: z.string() }),
    ])
    .optional(),
  /** What pre-flight read: the version the host really ran before this rollout. */
  running: z.string().optional(),
  /** Already healthy on the version of the plan: left out of it (`skip_current`). */
  skip: z.literal(true).optional(),
  forward: HostProcedureSchema,
  /** Absent when there is nothing to go back to: a failure then halts. */
  rollback: HostProcedureSchema.optional(),
});

export const PlannedGroupSchema = z.object({
  name: z.string(),
  parallel: z.int().positive(),
  gate: z.enum(['auto', 'manual']),
  hosts: z.array(PlannedHostSchema).min(1),
  /** The group's hosts came from this command (hosts_from): it is run again when the rollout starts. */
  inventory: z.object({ command: z.string(), timeoutMs: z.int().positive() }).optional(),
});

/** How a group's inventory changed between the plan and the start of its rollout. */
export const InventoryChangeSchema = z.object({
  group: z.string(),
  /** Listed now, not in the plan: not deployed to (they were not approved). */
  added: z.array(z.string()),
  /** In the plan, no longer listed: left out, not updated. */
  removed: z.array(z.string()),
});

/** What `--hosts` and `--groups` asked for, as given; absent: the whole environment. */
export const PlanFilterSchema = z.object({
  hosts: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
});

/** How many unreachable hosts may be left out, worked out for this plan's hosts. */
export const UnreachableAllowanceSchema = z.object({
  allowed: z.int().min(0),
  /** `max_unreachable` as the playbook says it: `2`, `10%`. */
  written: z.string(),
});

/** A host of the plan that the rollout left out because pre-flight could not connect to it. */
export const NotUpdatedHostSchema = z.object({
  host: z.string(),
  group: z.string(),
  detail: z.string(),
});

export const PlanSchema = z.object({
  kind: z.enum(['deploy', 'rollback', 'restart']),
  service: z.string(),
  environment: z.string(),
  version: z.string(),
  previousVersion: z.string().nullable(),
  createdAt: z.int(),
  sshUser: z.string(),
  /** The playbook's, for versions read from hosts; absent in older checkpoints. */
  versionPattern: z.string().optional(),
  /** Hosts already healthy on `version` are left out (never for a restart). */
  skipCurrent: z.boolean().optional(),
  onFailure: z.enum(FAILURE_POLICIES),
  health: z.object({
    intervalMs: z.int().positive(),
    timeoutMs: z.int().positive(),
    successes: z.int().positive(),
  }),
  groups: z.array(PlannedGroupSchema).min(1),
  only: PlanFilterSchema.optional(),
  /** Absent: no host may be left out (older plans, and max_unreachable 0). */
  unreachable: UnreachableAllowanceSchema.optional(),
  /** Set when the rollout starts: hosts left out (in no group above), within the allowance. */
  notUpdated: z.array(NotUpdatedHostSchema).optional(),
  /** Set when the rollout starts, when an inventory lists other hosts than when it was planned. */
  inventoryChanges: z.array(InventoryChangeSchema).optional(),
  /**
   * A host's procedure with its placeholders still in (`on` already resolved): what a rollback to
   * the version a host really ran is made from, once pre-flight has read it.
   */
  recipe: z
    .object({
      steps: z.array(PlannedStepSchema),
      after: z.array(PlannedStepSchema),
      probe: ProbeSchema,
    })
    .optional(),
});

export type PlannedStep = z.infer<typeof PlannedStepSchema>;
export type Probe = z.infer<typeof ProbeSchema>;
export type HostProcedure = z.infer<typeof HostProcedureSchema>;
export type PlannedJump = z.infer<typeof PlannedJumpSchema>;
export type PlannedElsewhere = z.infer<typeof PlannedElsewhereSchema>;
export type PlannedHost = z.infer<typeof PlannedHostSchema>;
export type PlannedGroup = z.infer<typeof PlannedGroupSchema>;
export type PlanFilter = z.infer<typeof PlanFilterSchema>;
export type NotUpdatedHost = z.infer<typeof NotUpdatedHostSchema>;
export type InventoryChange = z.infer<typeof InventoryChangeSchema>;
export type Plan = z.infer<typeof PlanSchema>;

/** Every step of a procedure in the order it runs: `step` numbers in events index this list. */
export function stepsOf(procedure: HostProcedure | undefined): PlannedStep[] {
  return procedure === undefined ? [] : [...procedure.steps, ...(procedure.after ?? [])];
}
