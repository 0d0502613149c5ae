import {
  RolloutJobSchema,
  ScheduledRollbackSchema,
  type RolloutJob,
  type ScheduledRollback,
} from '../../../src/app/jobs.js';
import type {
  JobAttempt,
  QueueConsumer,
  RolloutQueue,
  RolloutWorkSource,
} from '../../../src/app/queue-ports.js';

type Run = (job: RolloutJob, attempt: JobAttempt) => Promise<'done' | 'retry'>;
type Fire = (rollback: ScheduledRollback) => Promise<void>;

/**
 * Rollout jobs and scheduled rollbacks inside one process, for tests of the use cases: a job
 * runs as soon as it is added (again, up to `attempts`, when its run asks to retry), a
 * scheduled rollback on a timer. It passes the queue contract suite.
 */
export class InMemoryQueue implements RolloutQueue, RolloutWorkSource {
  /** Every job added, in order, once each. */
  readonly jobs: RolloutJob[] = [];
  private readonly pending = new Map<
    string,
    { rollback: ScheduledRollback; timer: NodeJS.Timeout | undefined }
  >();
  private readonly running = new Set<Promise<void>>();
  private readonly states = new Map<string, string>();
  private runJob: Run | undefined;
  private fire: Fire | undefined;

  constructor(
    private readonly warn: (message: string) => void,
    private readonly attempts = 3,
  ) {}

  private consumer(stop: () => void): QueueConsumer {
    let running = true;
    return {
      waitUntilReady: async () => {},
      isRunning: () => running,
      onLockLost: () => {},
      pause: async () => void (running = false),
      close: async () => {
        running = false;
        stop();
      },
    };
  }

  work(_name: string, run: Run): QueueConsumer {
    this.runJob = run;
    for (const job of this.jobs) if (this.states.get(job.rollout) === 'waiting') this.start(job, 1);
    return this.consumer(() => (this.runJob = undefined));
  }

  workSchedules(_name: string, fire: Fire): QueueConsumer {
    this.fire = fire;
    return this.consumer(() => (this.fire = undefined));
  }

  private track(what: string, work: Promise<void>): void {
    const running = work
      .catch((error: unknown) => this.warn(`${what}: ${(error as Error).message}`))
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  private start(job: RolloutJob, attempt: number): void {
    const run = this.runJob;
    if (run === undefined) return;
    this.states.set(job.rollout, 'active');
    this.track(
      `rollout ${job.rollout}`,
      run(job, { attempt, attempts: this.attempts })
        // A run that threw counts as a failed attempt, as BullMQ counts it.
        .catch((): 'retry' => 'retry')
        .then((done) => {
          if (done === 'done' || attempt >= this.attempts) {
            this.states.set(job.rollout, done === 'done' ? 'completed' : 'failed');
            return;
          }
          this.states.set(job.rollout, 'delayed');
          this.start(job, attempt + 1);
        }),
    );
  }

  async add(job: RolloutJob): Promise<void> {
    const data = RolloutJobSchema.parse(job);
    if (this.states.has(data.rollout)) return;
    this.jobs.push(data);
    this.states.set(data.rollout, 'waiting');
    this.start(data, 1);
  }

  async schedule(rollback: ScheduledRollback, now: number): Promise<void> {
    const data = ScheduledRollbackSchema.parse(rollback);
    if (this.pending.has(data.id)) return;
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
      if (this.pending.get(data.id) !== item) return;
      this.pending.delete(data.id);
      const fire = this.fire;
      if (fire !== undefined) this.track(`scheduled rollback ${data.id}`, fire(data));
    };
    this.pending.set(data.id, item);
    item.timer = setTimeout(arm, delay);
  }

  /** Timers armed and not yet fired. */
  armed(): ScheduledRollback[] {
    return [...this.pending.values()].map((item) => item.rollback);
  }

  async unschedule(id: string): Promise<void> {
    const item = this.pending.get(id);
    if (item === undefined) return;
    clearTimeout(item.timer);
    this.pending.delete(id);
  }

  async state(rollout: string): Promise<string> {
    return this.states.get(rollout) ?? 'unknown';
  }

  async depth(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const state of this.states.values()) counts[state] = (counts[state] ?? 0) + 1;
    return counts;
  }

  async failed(): Promise<RolloutJob[]> {
    return this.jobs.filter((job) => this.states.get(job.rollout) === 'failed');
  }

  async retry(rollout: string): Promise<void> {
    const job = this.jobs.find((candidate) => candidate.rollout === rollout);
    if (job !== undefined && this.states.get(rollout) === 'failed') this.start(job, 1);
  }

  /** Stops the timers and waits for the work in progress (bounded by the caller). */
  async close(): Promise<void> {
    for (const item of this.pending.values()) clearTimeout(item.timer);
    this.pending.clear();
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
