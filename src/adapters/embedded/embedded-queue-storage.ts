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
 * How long an idle worker waits for word of a job (a NOTIFY, or the due time of a delayed job)
 * before it looks for one anyway, in seconds: BullMQ's drainDelay, and its default.
 */
const IDLE_WAIT_S = 5;

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

  constructor(
    pool: PGlitePool,
    private readonly idleWaitS = IDLE_WAIT_S,
  ) {
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
    const worker = new Worker(
      name,
      handle,
      {
        ...settings,
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        drainDelay: this.idleWaitS,
        connection: this.connection,
      },
      createPostgresBackend,
    );
    // A forced close ends the backend but not its wait for a job (postgres-queue-backend.js,
    // waitForJob: a timer of drainDelay), which keeps the process alive until it fires; ending
    // the wait after the close claims nothing, as queries of a closed backend never run.
    worker.on('closed', () => void worker.disconnect().catch(() => undefined));
    return worker as unknown as Worker;
  }

  async close(): Promise<void> {}
}
