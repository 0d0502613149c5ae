import { createPostgresBackend, Queue, Worker, type PgPool } from '../queue/bullmq.js';
import type { Handler, QueueStorage, WorkerSettings } from '../queue/bullmq-rollout-queue.js';
import type { Sql } from './embedded-database.js';
import type { PGlitePool } from './pglite-pool.js';

/**
 * Only this process uses the database, so a job's lock cannot lapse because its worker died, only
 * because this process was too busy to renew it in time (PGlite's queries run on its main thread),
 * and then the job would run twice. Locks are long here; jobs left active by a process that died
 * are released when the database is opened (releaseJobsOfDeadProcesses).
 */
const LOCK_MS = 60_000;
const STALLED_CHECK_MS = 5_000;

/**
 * Called with the data directory held: every job still active belongs to a process that is gone,
 * so it is marked for the first stalled check to put back in the queue, rather than waiting out
 * its lock.
 */
export async function releaseJobsOfDeadProcesses(sql: Sql): Promise<void> {
  await sql.query(
    "UPDATE bullmq.job SET locked_until_ms = 0, stalled_marked = true WHERE state = 'active'",
  );
}

/** BullMQ's own PostgreSQL backend, on the embedded database. */
export class EmbeddedQueueStorage implements QueueStorage {
  private readonly connection: PgPool;

  constructor(pool: PGlitePool) {
    this.connection = pool as unknown as PgPool;
  }

  // The queue classes are typed by backend; what baton calls on them is the same for both.
  queue(name: string): Queue {
    return new Queue(
      name,
      { connection: this.connection },
      createPostgresBackend,
    ) as unknown as Queue;
  }

  worker(name: string, handle: Handler, settings: WorkerSettings): Worker {
    return new Worker(
      name,
      handle,
      {
        ...settings,
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        connection: this.connection,
      },
      createPostgresBackend,
    ) as unknown as Worker;
  }

  async close(): Promise<void> {}
}
