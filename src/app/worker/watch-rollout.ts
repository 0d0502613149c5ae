import type { RolloutJob } from '../jobs.js';
import type { LockResult } from '../store-ports.js';
import type { WorkerDeps } from './deps.js';
import { targetOf } from './finish-rollout.js';
import type { RolloutRun } from './run-rollout.js';

/**
 * While a rollout runs: keeps its lock alive and watches for a cancel request. When the store
 * cannot be reached (its calls retried already), the run is suspended, since this worker can no
 * longer prove it holds the target; the loop never throws out of the process.
 */
export async function watchRollout(
  job: RolloutJob,
  deps: WorkerDeps,
  run: RolloutRun,
  takeLock: () => Promise<LockResult>,
  stop: AbortSignal,
): Promise<void> {
  const target = targetOf(job);
  let lastRefresh = deps.clock.now();
  let cancelled = false;
  while (!stop.aborted) {
    try {
      const by = cancelled ? undefined : await deps.rollouts.cancelRequestedBy(job.rollout);
      if (by !== undefined) {
        run.cancel(by);
        cancelled = true;
      }
      if (deps.clock.now() - lastRefresh >= deps.lockTtlMs / 3) {
        if (!(await deps.locks.refresh(target, job.lockToken, deps.lockTtlMs))) {
          // Someone removed the lock (unlock --force): take it back, or stop if another holds it now.
          const again = await takeLock();
          if (!again.ok && !cancelled) {
            run.cancel(
              `baton (the lock was taken by ${again.holder.owner}: ${again.holder.reason})`,
            );
            cancelled = true;
          }
        }
        lastRefresh = deps.clock.now();
      }
    } catch (error) {
      const reason = `its lock and cancel requests could not be read: ${(error as Error).message}`;
      deps.warn(`rollout ${job.rollout}: ${reason}; suspending it`);
      run.suspend(reason, 'store');
      return;
    }
    await deps.clock.sleep(deps.pollMs, stop);
  }
}
