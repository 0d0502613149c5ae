import type { ScheduledRollback } from '../jobs.js';
import type { QueueConsumer, RolloutWorkSource } from '../queue-ports.js';
import type { WorkerDeps } from './deps.js';
import { giveUpJob, processRolloutJob, retryStalledRollouts } from './process-rollout-job.js';

/** How often a worker looks for rollouts whose jobs ran out of attempts. */
const STALLED_SWEEP_MS = 60_000;

export interface RunningWorker {
  consumer: QueueConsumer;
  /**
   * Stops taking jobs, lets the steps in flight finish (up to `boundMs`), and closes connections.
   * Rollouts it was running stay unfinished: their locks lapse and another worker resumes them.
   */
  stop(boundMs?: number): Promise<void>;
}

/**
 * A worker: takes rollout jobs and runs them, and fires scheduled rollbacks. A run that could not
 * go on (its store failing) goes back to the queue for a later attempt; one interrupted by this
 * process stopping is held until the process exits, so another worker takes it up at once.
 */
export function startRolloutWorker(
  source: RolloutWorkSource,
  deps: WorkerDeps,
  fire: (rollback: ScheduledRollback) => Promise<void>,
  closeExecutor: () => Promise<void>,
): RunningWorker {
  let stopping = false;
  const scheduler = source.workSchedules(deps.worker, fire);
  const consumer = source.work(deps.worker, async (job, attempt) => {
    let outcome;
    try {
      outcome = await processRolloutJob(job, deps, attempt);
    } catch (error) {
      if (attempt.attempt < attempt.attempts) throw error;
      // The last attempt: end the rollout in a stated state rather than leave it running.
      await giveUpJob(job, deps, `its store kept failing (${(error as Error).message})`);
      return 'done';
    }
    if (outcome.kind !== 'suspended') return 'done';
    // Shutting down: the job must not count as done, so hold it until this process exits.
    if (stopping) await new Promise<never>(() => {});
    deps.warn(
      `rollout ${job.rollout} suspended (attempt ${attempt.attempt} of ${attempt.attempts}): ${outcome.reason}`,
    );
    return 'retry';
  });
  // If this worker could not renew a job's lock, another worker may take the job up: start no
  // new work on it here, so at most the steps already in flight overlap.
  consumer.onLockLost((rollouts) => {
    for (const run of deps.active)
      if (rollouts.includes(run.current.id))
        run.suspend('this worker lost its job to another', 'lock_lost');
  });
  const sweep = () =>
    void retryStalledRollouts(deps)
      .then((retried) => {
        for (const rollout of retried)
          deps.warn(`rollout ${rollout} had used up its attempts: trying it again`);
      })
      .catch((error: unknown) =>
        deps.warn(`looking for stalled rollouts: ${(error as Error).message}`),
      );
  sweep();
  const sweeper = setInterval(sweep, STALLED_SWEEP_MS);
  sweeper.unref();
  return {
    consumer,
    async stop(boundMs = 30_000) {
      stopping = true;
      clearInterval(sweeper);
      await scheduler.close();
      await consumer.pause();
      const runs = [...deps.active];
      for (const run of runs) run.suspend();
      const settled = Promise.all(runs.map((run) => run.settled()));
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, boundMs).unref())]);
      await closeExecutor();
      await consumer.close();
    },
  };
}
