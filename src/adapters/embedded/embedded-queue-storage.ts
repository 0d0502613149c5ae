import { createPostgresBackend, Queue, Worker, type PgPool } from 'bullmq';
import type {
  Handler,
  QueueStorage,
  ScheduleClaims,
  WorkerSettings,
} from '../queue/bullmq-rollout-queue.js';
import type { Sql } from './embedded-database.js';
import type { PGlitePool } from './pglite-pool.js';

/** BullMQ's own PostgreSQL backend, on the embedded database. */
export class EmbeddedQueueStorage implements QueueStorage {
  readonly claims: ScheduleClaims;
  private readonly connection: PgPool;

  constructor(pool: PGlitePool, sql: Sql) {
    this.connection = pool as unknown as PgPool;
    this.claims = {
      async claim(id, as) {
        const { rows } = await sql.query(
          `INSERT INTO baton.schedule_claims (id, side) VALUES ($1, $2)
           ON CONFLICT (id) DO UPDATE SET side = EXCLUDED.side
             WHERE baton.schedule_claims.side = EXCLUDED.side
           RETURNING id`,
          [id, as],
        );
        return rows.length > 0;
      },
      async forget(id) {
        await sql.query('DELETE FROM baton.schedule_claims WHERE id = $1', [id]);
      },
    };
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
      { ...settings, connection: this.connection },
      createPostgresBackend,
    ) as unknown as Worker;
  }

  async close(): Promise<void> {}
}
