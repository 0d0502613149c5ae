import type { HistoryEntry } from './store-ports.js';

/** What runs now: the version of the newest rollout that succeeded (a rollback counts too). */
export function runningVersion(newestFirst: readonly HistoryEntry[]): string | null {
  return newestFirst.find((entry) => entry.result === 'succeeded')?.version ?? null;
}

/** Where `rollback` goes without a version: the newest good version other than the running one. */
export function rollbackVersion(newestFirst: readonly HistoryEntry[]): string | null {
  const running = runningVersion(newestFirst);
  return (
    newestFirst.find((entry) => entry.result === 'succeeded' && entry.version !== running)
      ?.version ?? null
  );
}
