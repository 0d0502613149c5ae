import { Queue, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { WatchedRedis } from './redis-connection.js';
import {
  RolloutJobSchema,
  ScheduledRollbackSchema,
  type RolloutJob,
  type ScheduledRollback,
} from './rollout-jobs.js';

export { redisConnection, type RedisTrouble, type WatchedRedis } from './redis-connection.js';

const QUEUE = 'rollouts';
const SCHEDULES = 'schedules';

/**
 * Tuned so a rollout whose worker died is taken up again within about 10 s: the lock lapses
 * after LOCK_MS without renewal, and every worker looks for such jobs every STALLED_CHECK_MS.
 */
export const LOCK_MS = 6_000;
export const STALLED_CHECK_MS = 2_000;
/** A rollout may lose many workers and still go on. */
const MAX_STALLED = 1_000;

/** Longer than any schedule may be ahead (30 days). */
const CLAIM_KEPT_MS = 31 * 24 * 3600_000;

// Claim the key unless the other side has it.
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * Firing and cancelling a scheduled rollback race for one record, so a rollback is either
 * cancelled or fired, never cancelled after it has started (the job's own state changes too late
 * to decide that). Claiming again as the same side succeeds: a worker that died while firing
 * leaves the job to be retried.
 */
export interface ScheduleClaims {
  claim(id: string, as: 'fired' | 'cancelled'): Promise<boolean>;
  /** Forgets the claim, for a rollback asked for again under the same id. */
  forget(id: string): Promise<void>;
}

export type Handler = (job: Job) => Promise<void>;
export type WorkerSettings = Pick<
  WorkerOptions,
  'name' | 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'
>;

/** Where BullMQ keeps the queues: Redis in production, the embedded database otherwise. */
export interface QueueStorage {
  readonly claims: ScheduleClaims;
  queue(name: string): Queue;
  worker(name: string, handle: Handler, settings: WorkerSettings): Worker;
  /** Closes what the storage opened for workers; the connection given to it stays open. */
  close(): Promise<void>;
}

export class RedisQueueStorage implements QueueStorage {
  /** Connections made for workers; BullMQ leaves connections it was given open, so we close them. */
  private readonly workerConnections: WatchedRedis[] = [];
  readonly claims: ScheduleClaims;

  constructor(
    private readonly connection: WatchedRedis,
    private readonly prefix: string,
  ) {
    const key = (id: string) => `${prefix}:schedule-claim:${id}`;
    this.claims = {
      claim: async (id, as) => (await connection.eval(CLAIM, 1, key(id), as, CLAIM_KEPT_MS)) === 1,
      forget: async (id) => void (await connection.del(key(id))),
    };
  }

  queue(name: string): Queue {
    const queue = new Queue(name, { connection: this.connection, prefix: `${this.prefix}:bull` });
    // Unheard, BullMQ prints each error on stderr, many a second while Redis is away.
    queue.on('error', (error) => this.connection.health.sawError(error));
    return queue;
  }

  worker(name: string, handle: Handler, settings: WorkerSettings): Worker {
    const connection = this.connection.duplicateWatched();
    this.workerConnections.push(connection);
    const worker = new Worker(name, handle, {
      ...settings,
      connection,
      prefix: `${this.prefix}:bull`,
    });
    worker.on('error', (error) => this.connection.health.sawError(error));
    return worker;
  }

  async close(): Promise<void> {
    for (const connection of this.workerConnections.splice(0)) connection.disconnect();
  }
}

export class BullRolloutQueue {
  private readonly queue: Queue;
  private readonly schedules: Queue;

  constructor(private readonly storage: QueueStorage) {
    this.queue = storage.queue(QUEUE);
    this.schedules = storage.queue(SCHEDULES);
  }

  /** Adds a delayed job that fires at `runAt`, kept in Redis so it survives every restart. */
  async schedule(rollback: ScheduledRollback, now: number): Promise<void> {
    const data = ScheduledRollbackSchema.parse(rollback);
    // The same id may come back (cancelled, then asked for again at the same time).
    await this.storage.claims.forget(data.id);
    await this.schedules.add('rollback', data, {
      jobId: data.id,
      delay: Math.max(0, data.runAt - now),
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  }

  /** Scheduled rollbacks that have not fired, soonest first. */
  async scheduled(): Promise<ScheduledRollback[]> {
    const jobs = await this.schedules.getJobs(['delayed', 'waiting']);
    return jobs
      .flatMap((job) => {
        const parsed = ScheduledRollbackSchema.safeParse(job.data);
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => a.runAt - b.runAt);
  }

  /** Removes a scheduled rollback before it fires; false if there was none (or it already fired). */
  async unschedule(id: string): Promise<boolean> {
    const job = await this.schedules.getJob(id);
    if (job === undefined || !['delayed', 'waiting'].includes(await job.getState())) return false;
    if (!(await this.claim(id, 'cancelled'))) return false;
    // Claimed: even if a worker took the job meanwhile, it will find the claim and not fire.
    await job.remove().catch(() => undefined);
    return true;
  }

  private claim(id: string, as: 'fired' | 'cancelled'): Promise<boolean> {
    return this.storage.claims.claim(id, as);
  }

  async add(job: RolloutJob): Promise<void> {
    const data = RolloutJobSchema.parse(job);
    await this.queue.add('rollout', data, {
      jobId: data.rollout,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  }

  /** Rollout jobs by state, for /metrics. */
  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  /** waiting, active, completed, failed, delayed… or unknown. */
  async state(rollout: string): Promise<string> {
    const job = await this.queue.getJob(rollout);
    return job === undefined ? 'unknown' : await job.getState();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.schedules.close();
    await this.storage.close();
  }

  /** Starts taking rollout jobs; `process` runs one rollout to its end (or to this worker's end). */
  work(name: string, process: (job: RolloutJob) => Promise<void>): Worker {
    return this.worker(QUEUE, name, 8, MAX_STALLED, (data, id) => {
      const parsed = RolloutJobSchema.safeParse(data);
      if (!parsed.success)
        throw new Error(`job ${id} is not a rollout job: ${parsed.error.message}`);
      return process(parsed.data);
    });
  }

  /** Fires scheduled rollbacks as they come due. */
  workSchedules(name: string, fire: (rollback: ScheduledRollback) => Promise<void>): Worker {
    return this.worker(SCHEDULES, name, 4, 1, async (data, id) => {
      const parsed = ScheduledRollbackSchema.safeParse(data);
      if (!parsed.success)
        throw new Error(`job ${id} is not a scheduled rollback: ${parsed.error.message}`);
      if (!(await this.claim(parsed.data.id, 'fired'))) return;
      await fire(parsed.data);
    });
  }

  private worker(
    queue: string,
    name: string,
    concurrency: number,
    maxStalledCount: number,
    handle: (data: unknown, id: string | undefined) => Promise<void>,
  ): Worker {
    return this.storage.worker(queue, (job: Job) => handle(job.data, job.id), {
      name,
      concurrency,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount,
    });
  }
}
