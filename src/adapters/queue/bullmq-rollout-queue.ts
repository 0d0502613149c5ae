import { Queue, Worker, type Job, type WorkerOptions } from './bullmq.js';
import type { WatchedRedis } from './redis-connection.js';
import {
  RolloutJobSchema,
  ScheduledRollbackSchema,
  type RolloutJob,
  type ScheduledRollback,
} from '../../app/jobs.js';
import type {
  JobAttempt,
  QueueConsumer,
  RolloutQueue,
  RolloutWorkSource,
} from '../../app/queue-ports.js';

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
/**
 * Attempts at a job that its store keeps failing: it is retried after 1, 2, 4 … 30 s, about
 * five minutes in all, before the rollout is given up (and said so) on the last one.
 */
export const JOB_ATTEMPTS = 15;
const MAX_BACKOFF_MS = 30_000;
const retryAfter = (attemptsMade: number) =>
  Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attemptsMade - 1));
const RETRIED = { attempts: JOB_ATTEMPTS, backoff: { type: 'capped' } } as const;

export type Handler = (job: Job) => Promise<void>;
export type WorkerSettings = Pick<
  WorkerOptions,
  'name' | 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'settings'
>;

/** Where BullMQ keeps the queues: Redis in production, the embedded database otherwise. */
export interface QueueStorage {
  queue(name: string): Queue;
  worker(name: string, handle: Handler, settings: WorkerSettings): Worker;
  /** Closes what the storage opened for workers; the connection given to it stays open. */
  close(): Promise<void>;
}

export class RedisQueueStorage implements QueueStorage {
  /** Connections made for workers; BullMQ leaves connections it was given open, so we close them. */
  private readonly workerConnections: WatchedRedis[] = [];

  constructor(
    private readonly connection: WatchedRedis,
    private readonly prefix: string,
  ) {}

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

/** What BullMQ's Worker is, behind the consumer port. */
function consumer(worker: Worker): QueueConsumer {
  return {
    waitUntilReady: async () => void (await worker.waitUntilReady()),
    isRunning: () => worker.isRunning(),
    onLockLost: (listener) => void worker.on('lockRenewalFailed', listener),
    pause: () => worker.pause(true),
    close: () => worker.close(true),
  };
}

/** Rollout jobs and scheduled rollbacks' timers, on BullMQ (over Redis or the embedded database). */
export class BullRolloutQueue implements RolloutQueue, RolloutWorkSource {
  private readonly queue: Queue;
  private readonly schedules: Queue;

  constructor(private readonly storage: QueueStorage) {
    this.queue = storage.queue(QUEUE);
    this.schedules = storage.queue(SCHEDULES);
  }

  /** A delayed job that fires at `runAt`, kept by BullMQ so it survives every restart. */
  async schedule(rollback: ScheduledRollback, now: number): Promise<void> {
    const data = ScheduledRollbackSchema.parse(rollback);
    await this.schedules.add('rollback', data, {
      jobId: data.id,
      delay: Math.max(0, data.runAt - now),
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
      ...RETRIED,
    });
  }

  async unschedule(id: string): Promise<void> {
    const job = await this.schedules.getJob(id);
    if (job !== undefined && ['delayed', 'waiting'].includes(await job.getState()))
      await job.remove().catch(() => undefined);
  }

  async add(job: RolloutJob): Promise<void> {
    const data = RolloutJobSchema.parse(job);
    await this.queue.add('rollout', data, {
      jobId: data.rollout,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
      ...RETRIED,
    });
  }

  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  async failed(): Promise<RolloutJob[]> {
    const jobs = await this.queue.getJobs(['failed']);
    return jobs.flatMap((job) => {
      const parsed = RolloutJobSchema.safeParse(job.data);
      return parsed.success ? [parsed.data] : [];
    });
  }

  async retry(rollout: string): Promise<void> {
    const job = await this.queue.getJob(rollout);
    if (job !== undefined && (await job.getState()) === 'failed') await job.retry('failed');
  }

  async state(rollout: string): Promise<string> {
    const job = await this.queue.getJob(rollout);
    return job === undefined ? 'unknown' : await job.getState();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.schedules.close();
    await this.storage.close();
  }

  /**
   * Takes rollout jobs: `run` runs one to its end, or says to try again later (its run was
   * suspended), which counts an attempt and brings the job back after a backoff.
   */
  work(
    name: string,
    run: (job: RolloutJob, attempt: JobAttempt) => Promise<'done' | 'retry'>,
  ): QueueConsumer {
    return consumer(
      this.worker(QUEUE, name, 8, MAX_STALLED, async (job) => {
        const parsed = RolloutJobSchema.safeParse(job.data);
        if (!parsed.success)
          throw new Error(`job ${job.id} is not a rollout job: ${parsed.error.message}`);
        const attempts = job.opts.attempts ?? 1;
        const done = await run(parsed.data, { attempt: job.attemptsMade + 1, attempts });
        if (done === 'retry')
          throw new Error(`rollout ${parsed.data.rollout} was suspended; it resumes later`);
      }),
    );
  }

  /** Fires scheduled rollbacks as they come due (a firing that fails is tried again). */
  workSchedules(name: string, fire: (rollback: ScheduledRollback) => Promise<void>): QueueConsumer {
    return consumer(
      this.worker(SCHEDULES, name, 4, 1, async (job) => {
        const parsed = ScheduledRollbackSchema.safeParse(job.data);
        if (!parsed.success)
          throw new Error(`job ${job.id} is not a scheduled rollback: ${parsed.error.message}`);
        await fire(parsed.data);
      }),
    );
  }

  private worker(
    queue: string,
    name: string,
    concurrency: number,
    maxStalledCount: number,
    handle: Handler,
  ): Worker {
    return this.storage.worker(queue, handle, {
      name,
      concurrency,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount,
      settings: { backoffStrategy: retryAfter },
    });
  }
}
