import { EventEmitter } from 'node:events';
import type { Clock } from '../../app/ports.js';
import type {
  AuditEntry,
  AuditLog,
  HistoryEntry,
  HistoryStore,
  LockHolder,
  LockResult,
  LockStore,
  RolloutStore,
  StoredUpdate,
  Target,
} from '../../app/store-ports.js';
import {
  changeBetween,
  fromCheckpoint,
  parseRolloutState,
  progressOf,
  type Progress,
  type RolloutState,
  type StateChange,
} from '../../core/rollout/index.js';
import { fromJson as json, type Sql } from './embedded-database.js';
import { AUDIT_MAX, HISTORY_MAX } from './schema.js';

export class SqlLockStore implements LockStore {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async acquire(target: Target, holder: LockHolder, ttlMs: number): Promise<LockResult> {
    const now = this.clock.now();
    // Taken when free, lapsed, or already ours; one statement, so two takers get one answer.
    const taken = await this.sql.query(
      `INSERT INTO baton.locks (service, environment, token, holder, expires_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (service, environment) DO UPDATE
         SET token = EXCLUDED.token, holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE baton.locks.expires_at <= $6 OR baton.locks.token = EXCLUDED.token
       RETURNING token`,
      [target.service, target.environment, holder.token, JSON.stringify(holder), now + ttlMs, now],
    );
    if (taken.rows.length > 0) return { ok: true };
    const current = await this.get(target);
    return current === undefined
      ? this.acquire(target, holder, ttlMs)
      : { ok: false, holder: current };
  }

  async refresh(target: Target, token: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const { rowCount } = await this.sql.query(
      `UPDATE baton.locks SET expires_at = $4
       WHERE service = $1 AND environment = $2 AND token = $3 AND expires_at > $5`,
      [target.service, target.environment, token, now + ttlMs, now],
    );
    return rowCount > 0;
  }

  async release(target: Target, token: string): Promise<boolean> {
    const { rowCount } = await this.sql.query(
      `DELETE FROM baton.locks
       WHERE service = $1 AND environment = $2 AND token = $3 AND expires_at > $4`,
      [target.service, target.environment, token, this.clock.now()],
    );
    return rowCount > 0;
  }

  async forceRelease(target: Target): Promise<LockHolder | undefined> {
    const { rows } = await this.sql.query(
      `DELETE FROM baton.locks WHERE service = $1 AND environment = $2 RETURNING holder, expires_at`,
      [target.service, target.environment],
    );
    const row = rows[0];
    return row === undefined || Number(row.expires_at) <= this.clock.now()
      ? undefined
      : json<LockHolder>(row.holder);
  }

  async get(target: Target): Promise<LockHolder | undefined> {
    const { rows } = await this.sql.query(
      `SELECT holder FROM baton.locks WHERE service = $1 AND environment = $2 AND expires_at > $3`,
      [target.service, target.environment, this.clock.now()],
    );
    return rows[0] === undefined ? undefined : json<LockHolder>(rows[0].holder);
  }
}

/**
 * Checkpoints and update streams. Only this process writes them (the data directory is locked),
 * so a follower waiting for updates is woken from here rather than by polling.
 */
export class SqlRolloutStore implements RolloutStore {
  private readonly appended = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async save(
    state: RolloutState,
    previous?: RolloutState,
    updates: readonly StoredUpdate[] = [],
  ): Promise<boolean> {
    const now = this.clock.now();
    if (previous !== undefined && previous.sequence < state.sequence) {
      const change = JSON.stringify(changeBetween(previous, state));
      // A change goes onto the checkpoint it was made from, and nowhere else, and its updates
      // with it: one statement (the updates as one JSON array, each element's text as written).
      const saved = await this.sql.query(
        `WITH head AS (
           UPDATE baton.checkpoints SET sequence = $3, at = $5 WHERE id = $1 AND sequence = $2
           RETURNING id),
         change AS (
           INSERT INTO baton.checkpoint_changes (id, sequence, change, at)
           SELECT id, $3, $4, $5 FROM head RETURNING id),
         appended AS (
           INSERT INTO baton.updates (id, update, at)
           SELECT change.id, item.update, $5
           FROM change, json_array_elements_text($6::json) WITH ORDINALITY AS item(update, n)
           ORDER BY item.n)
         SELECT count(*) AS stored FROM change`,
        [state.id, previous.sequence, state.sequence, change, now, JSON.stringify(updates)],
      );
      if (Number(saved.rows[0]?.stored) > 0) {
        if (updates.length > 0) this.appended.emit(state.id);
        return true;
      }
      // The same change sent again (its answer was lost on the way) is the newest one stored.
      const { rows } = await this.sql.query(
        `SELECT change FROM baton.checkpoint_changes JOIN baton.checkpoints USING (id, sequence)
         WHERE id = $1 AND sequence = $2`,
        [state.id, state.sequence],
      );
      return rows[0]?.change === change;
    }
    // The plan is written once; later progress is written without it.
    if (!(await this.planned(state.id)))
      await this.sql.query(
        'INSERT INTO baton.checkpoint_plans (id, plan, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
        [state.id, JSON.stringify(state.plan), now],
      );
    // Keep the newest checkpoint: a worker that was presumed dead must not overwrite its successor.
    const { rowCount } = await this.sql.query(
      `INSERT INTO baton.checkpoints (id, sequence, state, at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET sequence = EXCLUDED.sequence, state = EXCLUDED.state, at = EXCLUDED.at
         WHERE baton.checkpoints.sequence <= EXCLUDED.sequence`,
      [state.id, state.sequence, JSON.stringify(progressOf(state)), now],
    );
    if (rowCount === 0) return false;
    await this.sql.query('DELETE FROM baton.checkpoint_changes WHERE id = $1 AND sequence <= $2', [
      state.id,
      state.sequence,
    ]);
    for (const update of updates) await this.append(state.id, update);
    return true;
  }

  private async planned(id: string): Promise<boolean> {
    const { rows } = await this.sql.query('SELECT 1 FROM baton.checkpoint_plans WHERE id = $1', [
      id,
    ]);
    return rows.length > 0;
  }

  async load(id: string): Promise<RolloutState | undefined> {
    const { rows } = await this.sql.query('SELECT state FROM baton.checkpoints WHERE id = $1', [
      id,
    ]);
    if (rows[0] === undefined) return undefined;
    const stored = json<Record<string, unknown>>(rows[0].state);
    let state: unknown = stored;
    // A checkpoint with its plan inside is a whole state, as releases before changes wrote it.
    if (stored.plan === undefined) {
      const plan = await this.sql.query('SELECT plan FROM baton.checkpoint_plans WHERE id = $1', [
        id,
      ]);
      const changes = await this.sql.query(
        `SELECT change FROM baton.checkpoint_changes WHERE id = $1 AND sequence > $2
         ORDER BY sequence`,
        [id, Number(stored.sequence)],
      );
      if (plan.rows[0] === undefined) throw new Error(`rollout ${id}: its plan is missing`);
      try {
        state = fromCheckpoint(
          json(plan.rows[0].plan),
          stored as unknown as Progress,
          changes.rows.map((row) => json<StateChange>(row.change)),
        );
      } catch (error) {
        throw new Error(`rollout ${id}: ${(error as Error).message}`, { cause: error });
      }
    }
    const parsed = parseRolloutState(state);
    if (!parsed.ok) throw new Error(`rollout ${id}: ${parsed.message}`);
    return parsed.state;
  }

  async append(id: string, update: StoredUpdate): Promise<void> {
    await this.sql.query('INSERT INTO baton.updates (id, update, at) VALUES ($1, $2, $3)', [
      id,
      JSON.stringify(update),
      this.clock.now(),
    ]);
    this.appended.emit(id);
  }

  async read(
    id: string,
    cursor: string,
    blockMs: number,
  ): Promise<{ cursor: string; update: StoredUpdate }[]> {
    const found = await this.after(id, cursor);
    if (found.length > 0 || blockMs <= 0) return found;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.appended.off(id, done);
        resolve();
      };
      const timer = setTimeout(done, blockMs);
      this.appended.on(id, done);
    });
    return this.after(id, cursor);
  }

  private async after(id: string, cursor: string) {
    const { rows } = await this.sql.query(
      'SELECT seq, update FROM baton.updates WHERE id = $1 AND seq > $2 ORDER BY seq LIMIT 1000',
      [id, /^\d+$/.test(cursor) ? cursor : '0'],
    );
    return rows.map((row) => ({ cursor: String(row.seq), update: json<StoredUpdate>(row.update) }));
  }

  async requestCancel(id: string, by: string): Promise<void> {
    await this.sql.query(
      'INSERT INTO baton.cancels (id, by, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [id, by, this.clock.now()],
    );
  }

  async cancelRequestedBy(id: string): Promise<string | undefined> {
    const { rows } = await this.sql.query('SELECT by FROM baton.cancels WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : String(rows[0].by);
  }

  async answerGate(
    id: string,
    group: string,
    answer: { continue: boolean; by: string },
  ): Promise<void> {
    await this.sql.query(
      `INSERT INTO baton.gates (id, grp, answer, at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id, grp) DO NOTHING`,
      [id, group, JSON.stringify(answer), this.clock.now()],
    );
  }

  async gateAnswer(
    id: string,
    group: string,
  ): Promise<{ continue: boolean; by: string } | undefined> {
    const { rows } = await this.sql.query(
      'SELECT answer FROM baton.gates WHERE id = $1 AND grp = $2',
      [id, group],
    );
    return rows[0] === undefined ? undefined : json(rows[0].answer);
  }
}

export class SqlHistory implements HistoryStore, AuditLog {
  constructor(private readonly sql: Sql) {}

  async record(entry: HistoryEntry): Promise<boolean> {
    const { rowCount } = await this.sql.query(
      `INSERT INTO baton.history (service, environment, rollout, entry) VALUES ($1, $2, $3, $4)
       ON CONFLICT (service, environment, rollout) DO NOTHING`,
      [entry.service, entry.environment, entry.rollout, JSON.stringify(entry)],
    );
    if (rowCount === 0) return false;
    await this.sql.query(
      `DELETE FROM baton.history WHERE service = $1 AND environment = $2 AND seq <= (
         SELECT seq FROM baton.history WHERE service = $1 AND environment = $2
         ORDER BY seq DESC OFFSET $3 LIMIT 1)`,
      [entry.service, entry.environment, HISTORY_MAX],
    );
    return true;
  }

  async recorded(target: Target, rollout: string): Promise<boolean> {
    const { rows } = await this.sql.query(
      'SELECT 1 FROM baton.history WHERE service = $1 AND environment = $2 AND rollout = $3',
      [target.service, target.environment, rollout],
    );
    return rows.length > 0;
  }

  async list(target: Target, limit: number): Promise<HistoryEntry[]> {
    const { rows } = await this.sql.query(
      `SELECT entry FROM baton.history WHERE service = $1 AND environment = $2
       ORDER BY seq DESC LIMIT $3`,
      [target.service, target.environment, limit],
    );
    return rows.map((row) => json<HistoryEntry>(row.entry));
  }

  async append(entry: AuditEntry): Promise<void> {
    const { rows } = await this.sql.query(
      'INSERT INTO baton.audit (entry) VALUES ($1) RETURNING seq',
      [JSON.stringify(entry)],
    );
    const seq = Number(rows[0]?.seq ?? 0);
    if (seq % 1000 === 0)
      await this.sql.query('DELETE FROM baton.audit WHERE seq <= $1', [seq - AUDIT_MAX]);
  }

  async recent(limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.sql.query(
      'SELECT entry FROM baton.audit ORDER BY seq DESC LIMIT $1',
      [limit],
    );
    return rows.map((row) => json<AuditEntry>(row.entry));
  }
}
