import type { RolloutQueue } from '../../../src/app/chatops/deps.js';
import {
  RolloutJobSchema,
  ScheduledRollbackSchema,
  type RolloutJob,
  type ScheduledRollback,
} from '../../../src/adapters/queue/rollout-jobs.js';

/**
 * Rollout jobs and scheduled rollbacks inside one process, for tests of the use cases: a job runs
 * as soon as it is added, a scheduled rollback on a timer. It passes the queue contract suite.
 */
export class InMemoryQueue implements RolloutQueue {
  private readonly pending = new Map<
    string,
    { rollback: ScheduledRollback; timer: NodeJS.Timeout }
  >();
  private readonly running = new Set<Promise<void>>();
  private runJob: ((job: RolloutJob) => Promise<void>) | undefined;
  private fire: ((rollback: ScheduledRollback) => Promise<void>) | undefined;

  constructor(private readonly warn: (message: string) => void) {}

  /** Who runs rollout jobs and fires due rollbacks. */
  work(
    runJob: (job: RolloutJob) => Promise<void>,
    fire: (rollback: ScheduledRollback) => Promise<void>,
  ): void {
    this.runJob = runJob;
    this.fire = fire;
  }

  private track(what: string, work: Promise<void>): void {
    const running = work
      .catch((error: unknown) => this.warn(`${what}: ${(error as Error).message}`))
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  async add(job: RolloutJob): Promise<void> {
    const data = RolloutJobSchema.parse(job);
    const run = this.runJob;
    if (run === undefined) throw new Error('nothing runs rollouts in this process');
    this.track(`rollout ${data.rollout}`, run(data));
  }

  async schedule(rollback: ScheduledRollback, now: number): Promise<void> {
    const data = ScheduledRollbackSchema.parse(rollback);
    clearTimeout(this.pending.get(data.id)?.timer);
    const timer = setTimeout(
      () => {
        // Taken out first: a cancel from now on finds nothing, so a rollback fires or is cancelled.
        if (!this.pending.delete(data.id)) return;
        const fire = this.fire;
        if (fire !== undefined) this.track(`scheduled rollback ${data.id}`, fire(data));
      },
      Math.max(0, data.runAt - now),
    );
    this.pending.set(data.id, { rollback: data, timer });
  }

  async scheduled(): Promise<ScheduledRollback[]> {
    return [...this.pending.values()]
      .map((item) => item.rollback)
      .sort((a, b) => a.runAt - b.runAt);
  }

  async unschedule(id: string): Promise<boolean> {
    const item = this.pending.get(id);
    if (item === undefined) return false;
    clearTimeout(item.timer);
    return this.pending.delete(id);
  }

  /** Stops the timers and waits for the work in progress (bounded by the caller). */
  async close(): Promise<void> {
    for (const item of this.pending.values()) clearTimeout(item.timer);
    this.pending.clear();
    await Promise.all([...this.running]);
  }
}
