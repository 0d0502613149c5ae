/** Exit statuses of `baton` (scripts rely on them). */
export const EXIT = {
  ok: 0,
  /** Something checked was wrong: invalid playbooks, a failed rollout. */
  failed: 1,
  /** The command line or configuration was wrong; nothing was done. */
  badInput: 2,
} as const;
