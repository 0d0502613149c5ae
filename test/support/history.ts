import type { HistoryStore, Target } from '../../src/app/store-ports.js';

/** Says that `versions` were deployed to `target`, in that order, the last one running now. */
export async function deployedBefore(
  history: HistoryStore,
  target: Target,
  ...versions: string[]
): Promise<void> {
  for (const version of versions)
    await history.record({
      ...target,
      rollout: `seed-${target.environment}-${version}`,
      kind: 'deploy',
      version,
      previousVersion: null,
      by: 'UALICE',
      startedAt: 0,
      finishedAt: 0,
      result: 'succeeded',
    });
}
