import type { RolloutJob, ScheduledRollback } from './jobs.js';

/** The durable queue: rollout jobs for workers, and timers for scheduled rollbacks. */
export interface RolloutQueue {
  /** Queues a rollout job; adding the same rollout again adds nothing. */
  add(job: RolloutJob): Promise<void>;
  /** Arms the timer that fires `rollback` at its time (its record is in the ScheduleStore). */
  schedule(rollback: ScheduledRollback, now: number): Promise<void>;
  /** Disarms a rollback's timer, if it is still armed. */
  unschedule(id: string): Promise<void>;
  /** waiting, active, completed, failed, delayed… or unknown. */
  state(rollout: string): Promise<string>;
  /** Rollout jobs by state, for /metrics. */
  depth(): Promise<Record<string, number>>;
  /** Rollout jobs that used up their attempts (their store failed for longer than that). */
  failed(): Promise<RolloutJob[]>;
  /** Gives a failed rollout job a fresh set of attempts. */
  retry(rollout: string): Promise<void>;
}

/** One attempt at a rollout job: which it is, of how many the queue will make. */
export interface JobAttempt {
  attempt: number;
  attempts: number;
}

/**
 * Takes jobs from the queue and hands them to the use cases. Hides the queue's own lifecycle:
 * a job whose lock this process could not renew is reported, so its run stops starting work.
 */
export interface QueueConsumer {
  waitUntilReady(): Promise<void>;
  isRunning(): boolean;
  /** Called with the rollouts whose queue locks this process lost. */
  onLockLost(listener: (rollouts: string[]) => void): void;
  /** Stops taking new jobs; the ones running go on. */
  pause(): Promise<void>;
  /** Stops for good without waiting for the jobs running (their locks lapse; others resume them). */
  close(): Promise<void>;
}

/** The queue's consuming side. */
export interface RolloutWorkSource {
  work(
    name: string,
    run: (job: RolloutJob, attempt: JobAttempt) => Promise<'done' | 'retry'>,
  ): QueueConsumer;
  workSchedules(name: string, fire: (rollback: ScheduledRollback) => Promise<void>): QueueConsumer;
}

/**
 * The producing side alone of a queue that also consumes, so that wrapping it (in retries)
 * wraps only the calls that are requests.
 */
export function producerOf(queue: RolloutQueue): RolloutQueue {
  return {
    add: (job) => queue.add(job),
    schedule: (rollback, now) => queue.schedule(rollback, now),
    unschedule: (id) => queue.unschedule(id),
    state: (rollout) => queue.state(rollout),
    depth: () => queue.depth(),
    failed: () => queue.failed(),
    retry: (rollout) => queue.retry(rollout),
  };
}
