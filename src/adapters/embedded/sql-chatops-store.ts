import type {
  ChannelNotice,
  ChatOpsStore,
  MessageRef,
  PendingRollout,
  ReportedRollout,
} from '../../app/chatops/ports.js';
import type { Clock } from '../../app/ports.js';
import { fromJson as json, type Sql } from './embedded-database.js';

/** Decided requests stay readable this long, so a late click still hears who decided. */
const DECIDED_KEPT_MS = 7 * 24 * 3600_000;

export class SqlChatOpsStore implements ChatOpsStore {
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

  async savePending(pending: PendingRollout): Promise<void> {
    const keepUntil =
      Math.max(this.clock.now() + 1000, pending.request.expiresAt) + DECIDED_KEPT_MS;
    await this.sql.query(
      `INSERT INTO baton.pending (id, status, pending, keep_until) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE
         SET status = EXCLUDED.status, pending = EXCLUDED.pending, keep_until = EXCLUDED.keep_until`,
      [pending.id, pending.request.status, JSON.stringify(pending), keepUntil],
    );
  }

  async pending(id: string): Promise<PendingRollout | undefined> {
    const { rows } = await this.sql.query('SELECT pending FROM baton.pending WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : json<PendingRollout>(rows[0].pending);
  }

  async decide(id: string, decided: PendingRollout): Promise<boolean> {
    // Only while still pending: two approvers clicking at once get one decision.
    const { rowCount } = await this.sql.query(
      `UPDATE baton.pending SET status = $2, pending = $3 WHERE id = $1 AND status = 'pending'`,
      [id, decided.request.status, JSON.stringify(decided)],
    );
    return rowCount > 0;
  }

  async allPending(): Promise<PendingRollout[]> {
    const { rows } = await this.sql.query(
      `SELECT pending FROM baton.pending WHERE status = 'pending' ORDER BY id`,
    );
    return rows.map((row) => json<PendingRollout>(row.pending));
  }

  async report(entry: ReportedRollout): Promise<void> {
    await this.sql.query(
      `INSERT INTO baton.reports (rollout, entry) VALUES ($1, $2)
       ON CONFLICT (rollout) DO UPDATE SET entry = EXCLUDED.entry`,
      [entry.rollout, JSON.stringify(entry)],
    );
  }

  async reports(): Promise<ReportedRollout[]> {
    const { rows } = await this.sql.query('SELECT entry FROM baton.reports ORDER BY rollout');
    return rows.map((row) => json<ReportedRollout>(row.entry));
  }

  async claimReport(rollout: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const { rows } = await this.sql.query(
      `INSERT INTO baton.report_leases (rollout, owner, until) VALUES ($1, $2, $3)
       ON CONFLICT (rollout) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
         WHERE baton.report_leases.owner = EXCLUDED.owner OR baton.report_leases.until <= $4
       RETURNING rollout`,
      [rollout, owner, now + ttlMs, now],
    );
    return rows.length > 0;
  }

  async reportDone(rollout: string): Promise<void> {
    await this.sql.query('DELETE FROM baton.reports WHERE rollout = $1', [rollout]);
    await this.sql.query('DELETE FROM baton.report_leases WHERE rollout = $1', [rollout]);
  }

  async addNotice(notice: ChannelNotice): Promise<void> {
    await this.sql.query('INSERT INTO baton.notices (notice) VALUES ($1)', [
      JSON.stringify(notice),
    ]);
  }

  async takeNotices(): Promise<ChannelNotice[]> {
    const { rows } = await this.sql.query('DELETE FROM baton.notices RETURNING seq, notice');
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((row) => json<ChannelNotice>(row.notice));
  }

  async scheduleMessage(id: string): Promise<MessageRef | undefined> {
    const { rows } = await this.sql.query('SELECT ref FROM baton.schedule_messages WHERE id = $1', [
      id,
    ]);
    return rows[0] === undefined ? undefined : json<MessageRef>(rows[0].ref);
  }

  async rememberScheduleMessage(id: string, ref: MessageRef): Promise<void> {
    await this.sql.query(
      `INSERT INTO baton.schedule_messages (id, ref) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET ref = EXCLUDED.ref`,
      [id, JSON.stringify(ref)],
    );
  }
}
