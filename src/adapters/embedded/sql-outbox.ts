import type { Clock } from '../../app/ports.js';
import type {
  DeliveryState,
  MessageView,
  OutboxMessage,
  OutboxRecord,
  OutboxStore,
} from '../../app/outbox/ports.js';
import { fromJson as json, type Sql } from './embedded-database.js';

/** A message not delivered after this long is gone; a delivered one is kept a week for threads. */
const KEPT_MS = 31 * 24 * 3600_000;
const SETTLED_KEPT_MS = 7 * 24 * 3600_000;

const FRESH: DeliveryState = { notBefore: 0, attempts: 0, settled: false };

function recordOf(row: Record<string, unknown>): OutboxRecord {
  return {
    key: String(row.key),
    to: json(row.destination),
    view: json(row.view),
    createdAt: Number(row.created_at),
    ...json<DeliveryState>(row.delivery),
    settled: row.settled === true,
  };
}

export class SqlOutbox implements OutboxStore {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async add(message: OutboxMessage): Promise<boolean> {
    const { rowCount } = await this.sql.query(
      `INSERT INTO baton.outbox (key, destination, view, created_at, delivery, settled, keep_until)
       VALUES ($1, $2, $3, $4, $5, false, $6) ON CONFLICT (key) DO NOTHING`,
      [
        message.key,
        JSON.stringify(message.to),
        JSON.stringify(message.view),
        message.createdAt,
        JSON.stringify(FRESH),
        this.clock.now() + KEPT_MS,
      ],
    );
    return rowCount > 0;
  }

  async change(key: string, view: MessageView): Promise<void> {
    await this.sql.query(
      'UPDATE baton.outbox SET view = $2, settled = false, keep_until = $3 WHERE key = $1',
      [key, JSON.stringify(view), this.clock.now() + KEPT_MS],
    );
  }

  async get(key: string): Promise<OutboxRecord | undefined> {
    const { rows } = await this.sql.query('SELECT * FROM baton.outbox WHERE key = $1', [key]);
    return rows[0] === undefined ? undefined : recordOf(rows[0]);
  }

  async unsettled(limit: number): Promise<OutboxRecord[]> {
    const { rows } = await this.sql.query(
      'SELECT * FROM baton.outbox WHERE settled = false ORDER BY created_at, key LIMIT $1',
      [limit],
    );
    return rows.map(recordOf);
  }

  async claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const { rows } = await this.sql.query(
      `INSERT INTO baton.outbox_leases (key, owner, until) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
         WHERE baton.outbox_leases.owner = EXCLUDED.owner OR baton.outbox_leases.until <= $4
       RETURNING key`,
      [key, owner, now + ttlMs, now],
    );
    return rows.length > 0;
  }

  async record(key: string, delivery: DeliveryState, view: MessageView): Promise<void> {
    // Settled only if its view is still the one the attempt delivered.
    await this.sql.query(
      `UPDATE baton.outbox SET delivery = $2,
         settled = (view = $4 AND $3),
         keep_until = CASE WHEN view = $4 AND $3 THEN $5 ELSE keep_until END
       WHERE key = $1`,
      [
        key,
        JSON.stringify(delivery),
        delivery.settled,
        JSON.stringify(view),
        this.clock.now() + SETTLED_KEPT_MS,
      ],
    );
  }
}
