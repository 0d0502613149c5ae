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
    { rollback: ScheduledRollback; timer: NodeJS.Timeout | undefined }
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
    const previous = this.pending.get(data.id);
    if (previous !== undefined) clearTimeout(previous.timer);
    const item = { rollback: data, timer: undefined as NodeJS.Timeout | undefined };
    // Node's timers can fire a millisecond before their delay has passed; a rollback must never
    // fire before its time, so an early timer is armed again for what is left.
    const delay = Math.max(0, data.runAt - now);
    const deadline = performance.now() + delay;
    const arm = () => {
      const left = deadline - performance.now();
      if (left > 0) {
        item.timer = setTimeout(arm, Math.ceil(left));
        return;
      }
      // Taken out first: a cancel from now on finds nothing, so a rollback fires or is cancelled.
      if (this.pending.get(data.id) !== item) return;
      this.pending.delete(data.id);
      const fire = this.fire;
      if (fire !== undefined) this.track(`scheduled rollback ${data.id}`, fire(data));
    };
    this.pending.set(data.id, item);
    item.timer = setTimeout(arm, delay);
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
