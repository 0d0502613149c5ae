import type { ScheduledRollback } from '../../app/jobs.js';
import type { Clock } from '../../app/ports.js';
import type {
  ScheduleCreated,
  ScheduleRecord,
  ScheduleStatus,
  ScheduleStore,
} from '../../app/schedule-ports.js';
import { fromJson as json, inTransaction, type TransactionalSql } from './embedded-database.js';

/** Longer than any schedule may be ahead (30 days), and then some to show how it ended. */
const KEPT_MS = 60 * 24 * 3600_000;

function recordOf(row: Record<string, unknown>): ScheduleRecord {
  return {
    ...json<ScheduledRollback>(row.rollback),
    status: String(row.status) as ScheduleStatus,
    ...(row.settled === null || row.settled === undefined ? {} : { settled: json(row.settled) }),
    ...(row.firing === null || row.firing === undefined ? {} : { firing: json(row.firing) }),
  };
}

export class SqlScheduleStore implements ScheduleStore {
  constructor(
    private readonly sql: TransactionalSql,
    private readonly clock: Clock,
  ) {}

  async create(
    schedule: ScheduledRollback,
    options: { replace: boolean; at: number; by: string },
  ): Promise<ScheduleCreated> {
    // One transaction: a target has one open rollback, whoever asks at the same moment.
    return inTransaction(this.sql, async (sql) => {
      const known = await sql.query('SELECT 1 FROM baton.schedules WHERE id = $1', [schedule.id]);
      if (known.rows.length > 0) return { ok: true, added: false, replaced: [] };
      const { rows } = await sql.query(
        `SELECT * FROM baton.schedules WHERE service = $1 AND environment = $2
         AND status IN ('pending', 'firing') ORDER BY run_at`,
        [schedule.service, schedule.environment],
      );
      const open = rows.map(recordOf);
      const first = open[0];
      if (first !== undefined && !options.replace) return { ok: false, existing: first };
      const settled = { by: options.by, at: options.at };
      const replaced = open
        .filter((item) => item.status === 'pending')
        .map((item) => ({ ...item, status: 'replaced' as const, settled }));
      for (const item of replaced)
        await sql.query(
          `UPDATE baton.schedules SET status = 'replaced', settled = $2 WHERE id = $1`,
          [item.id, JSON.stringify(settled)],
        );
      await sql.query(
        `INSERT INTO baton.schedules (id, service, environment, run_at, rollback, status, keep_until)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)`,
        [
          schedule.id,
          schedule.service,
          schedule.environment,
          schedule.runAt,
          JSON.stringify(schedule),
          this.clock.now() + KEPT_MS,
        ],
      );
      return { ok: true, added: true, replaced };
    });
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const { rows } = await this.sql.query('SELECT * FROM baton.schedules WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : recordOf(rows[0]);
  }

  async open(): Promise<ScheduleRecord[]> {
    const { rows } = await this.sql.query(
      `SELECT * FROM baton.schedules WHERE status IN ('pending', 'firing') ORDER BY run_at, id`,
    );
    return rows.map(recordOf);
  }

  async transition(
    id: string,
    from: readonly ScheduleStatus[],
    change: Pick<ScheduleRecord, 'status'> & Partial<Pick<ScheduleRecord, 'settled' | 'firing'>>,
  ): Promise<ScheduleRecord | undefined> {
    const { rows } = await this.sql.query(
      `UPDATE baton.schedules SET status = $2,
         settled = COALESCE($3, settled), firing = COALESCE($4, firing)
       WHERE id = $1 AND status = ANY(string_to_array($5, ',')) RETURNING *`,
      [
        id,
        change.status,
        change.settled === undefined ? null : JSON.stringify(change.settled),
        change.firing === undefined ? null : JSON.stringify(change.firing),
        from.join(','),
      ],
    );
    return rows[0] === undefined ? undefined : recordOf(rows[0]);
  }
}
