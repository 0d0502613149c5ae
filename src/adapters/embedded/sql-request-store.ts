import type { Approval, LaunchResult, RequestStore } from '../../app/approval-ports.js';
import type { Clock } from '../../app/ports.js';
import { fromJson as json, type Sql } from './embedded-database.js';

/** Decided requests stay readable this long, so a late click still hears who decided. */
const DECIDED_KEPT_MS = 7 * 24 * 3600_000;

export class SqlRequestStore implements RequestStore {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async firstDelivery(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const { rows } = await this.sql.query(
      `INSERT INTO baton.deliveries (key, until) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until WHERE baton.deliveries.until <= $3
       RETURNING key`,
      [key, now + ttlMs, now],
    );
    return rows.length > 0;
  }

  async open(approval: Approval): Promise<boolean> {
    const keepUntil =
      Math.max(this.clock.now() + 1000, approval.request.expiresAt) + DECIDED_KEPT_MS;
    const { rowCount } = await this.sql.query(
      `INSERT INTO baton.pending (id, status, pending, keep_until) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [approval.id, approval.request.status, JSON.stringify(approval), keepUntil],
    );
    return rowCount > 0;
  }

  async approval(id: string): Promise<Approval | undefined> {
    const { rows } = await this.sql.query(
      `SELECT p.pending, l.result FROM baton.pending p
       LEFT JOIN baton.launches l ON l.id = p.id WHERE p.id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : withLaunch(rows[0]);
  }

  async decide(id: string, decided: Approval): Promise<boolean> {
    // Only while still pending: two approvers clicking at once get one decision.
    const { rowCount } = await this.sql.query(
      `UPDATE baton.pending SET status = $2, pending = $3 WHERE id = $1 AND status = 'pending'`,
      [id, decided.request.status, JSON.stringify(decided)],
    );
    return rowCount > 0;
  }

  async pending(): Promise<Approval[]> {
    const { rows } = await this.sql.query(
      `SELECT pending FROM baton.pending WHERE status = 'pending' ORDER BY id`,
    );
    return rows.map((row) => json<Approval>(row.pending));
  }

  async unlaunched(): Promise<Approval[]> {
    const { rows } = await this.sql.query(
      `SELECT p.pending FROM baton.pending p
       WHERE p.status = 'approved' AND NOT EXISTS (SELECT 1 FROM baton.launches l WHERE l.id = p.id)
       ORDER BY p.id`,
    );
    return rows
      .map((row) => json<Approval>(row.pending))
      .filter((approval) => approval.launch !== undefined);
  }

  async settleLaunch(id: string, result: LaunchResult): Promise<boolean> {
    const { rowCount } = await this.sql.query(
      'INSERT INTO baton.launches (id, result) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING',
      [id, JSON.stringify(result)],
    );
    return rowCount > 0;
  }
}

function withLaunch(row: Record<string, unknown>): Approval {
  const approval = json<Approval>(row.pending);
  if (row.result !== null && row.result !== undefined && approval.launch !== undefined)
    approval.launch.result = json<LaunchResult>(row.result);
  return approval;
}
