/** Exit statuses of `baton` (scripts rely on them). */
export const EXIT = {
  ok: 0,
  /** Something checked was wrong: invalid playbooks. */
  failed: 1,
  /** The command line, configuration or a value was wrong; nothing was done. */
  badInput: 2,
  /** The rollout failed and stopped: the failed group (or all, per policy) was rolled back, or it halted. */
  rolledBack: 3,
  /** A host could not be reached or trusted. */
  cannotConnect: 4,
  /** A rollback itself failed: some hosts need a person. */
  needsPerson: 5,
  /** Another rollout or a lock holds the service+environment; nothing was started. */
  locked: 6,
} as const;
