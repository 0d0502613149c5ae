import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import { PreparedStatements } from './prepared-statements.js';

/** What BullMQ's PostgreSQL backend reads from a query (the shape node-postgres returns). */
interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

const LISTEN = /^\s*(?:--[^\n]*\n\s*)*(UN)?LISTEN\s+("?)([A-Za-z_][\w$]*)\2\s*;?\s*$/i;
const BEGIN = /^\s*(BEGIN|START TRANSACTION)\b/i;
const END = /^\s*(COMMIT|ROLLBACK|END|ABORT)\b/i;

/**
 * Serializes access to the one PGlite session: a client that opened a transaction keeps it until
 * COMMIT/ROLLBACK, so another client's statement never lands inside someone else's transaction.
 */
class SessionGate {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function once the session is ours. */
  take(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }
}

/**
 * A node-postgres-like pool over one in-process PGlite database, for BullMQ's PostgreSQL backend:
 * parameterless scripts go through `exec` (they may hold several statements), LISTEN becomes a
 * subscription whose notifications are re-emitted as node-postgres `notification` events, and
 * bigint/numeric come back as strings as node-postgres gives them.
 */
export class PGlitePool extends EventEmitter {
  private readonly gate = new SessionGate();
  private readonly subscribers = new Map<string, Set<PGliteClient>>();
  private readonly unsubscribe: () => void;
  private readonly statements: PreparedStatements;

  constructor(readonly db: PGlite) {
    super();
    this.statements = new PreparedStatements(db);
    // Every BullMQ queue and worker on the pool listens for its errors.
    this.setMaxListeners(0);
    this.unsubscribe = db.onNotification((channel, payload) => {
      for (const client of this.subscribers.get(channel) ?? [])
        client.emit('notification', { channel, payload });
    });
  }

  async query(text: string, params?: readonly unknown[]): Promise<QueryResult> {
    const release = await this.gate.take();
    try {
      return await this.run(text, params);
    } finally {
      release();
    }
  }

  /** Runs a statement on the session as it is: the caller holds the gate. */
  async run(text: string, params?: readonly unknown[]): Promise<QueryResult> {
    if (params === undefined || params.length === 0) {
      const results = await this.db.exec(text);
      const last = results.at(-1);
      return {
        rows: (last?.rows ?? []) as Record<string, unknown>[],
        rowCount: last?.affectedRows ?? 0,
      };
    }
    return this.statements.run(text, params);
  }

  async connect(): Promise<PGliteClient> {
    return new PGliteClient(this);
  }

  /** The database belongs to whoever opened it; ending the pool leaves it open. */
  async end(): Promise<void> {
    this.unsubscribe();
    this.subscribers.clear();
  }

  async listen(client: PGliteClient, channel: string, on: boolean): Promise<void> {
    let clients = this.subscribers.get(channel);
    if (!on) {
      clients?.delete(client);
      return;
    }
    // Registered before the first await, so clients subscribing at once share one set.
    const first = clients === undefined;
    clients ??= new Set();
    clients.add(client);
    this.subscribers.set(channel, clients);
    if (first) await this.query(`LISTEN "${channel}"`);
  }

  takeSession(): Promise<() => void> {
    return this.gate.take();
  }

  forget(client: PGliteClient): void {
    for (const clients of this.subscribers.values()) clients.delete(client);
  }
}

/** One "connection": shares the session, and holds it for the length of a transaction. */
export class PGliteClient extends EventEmitter {
  private transaction: (() => void) | undefined;

  constructor(private readonly pool: PGlitePool) {
    super();
  }

  async query(text: string, params?: readonly unknown[]): Promise<QueryResult> {
    const listen = LISTEN.exec(text);
    if (listen !== null) {
      await this.pool.listen(this, listen[3] ?? '', listen[1] === undefined);
      return { rows: [], rowCount: 0 };
    }
    if (this.transaction === undefined && BEGIN.test(text)) {
      this.transaction = await this.pool.takeSession();
      try {
        return await this.pool.run(text, params);
      } catch (error) {
        this.endTransaction();
        throw error;
      }
    }
    if (this.transaction !== undefined) {
      try {
        return await this.pool.run(text, params);
      } finally {
        if (END.test(text)) this.endTransaction();
      }
    }
    return this.pool.query(text, params);
  }

  private endTransaction(): void {
    const release = this.transaction;
    this.transaction = undefined;
    release?.();
  }

  release(): void {
    if (this.transaction !== undefined) {
      // A transaction left open would hold the session for ever: undo it and free the session.
      void this.pool.run('ROLLBACK').finally(() => this.endTransaction());
    }
    this.pool.forget(this);
  }
}
