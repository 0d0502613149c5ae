import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { runMigrations, type PgPoolClient } from 'bullmq';
import { DataDirLock } from './data-dir-lock.js';
import { PGlitePool } from './pglite-pool.js';
import { BATON_SCHEMA } from './schema.js';

/** The queries the embedded stores run (PGlitePool is one). */
export interface Sql {
  query(
    text: string,
    params?: readonly unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
}

/** A source of connections, for statements that must run in one transaction. */
export interface TransactionalSql extends Sql {
  connect(): Promise<Sql & { release(): void }>;
}

/** Runs `work` in one transaction: all of it is stored, or none of it (a crash included). */
export async function inTransaction<T>(
  pool: TransactionalSql,
  work: (sql: Sql) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A column of JSON text, as the stores write it. */
export const fromJson = <T>(value: unknown): T => JSON.parse(String(value)) as T;

export interface EmbeddedDatabase {
  dir: string;
  /** For BullMQ, and for the stores' own queries. */
  pool: PGlitePool;
  close(): Promise<void>;
}

// node-postgres gives bigint and numeric as strings; BullMQ's SQL layer expects that.
const AS_TEXT = (value: string) => value;
// baton's tables are small: PostgreSQL's default 128 MB of buffers only costs memory here.
export const SETTINGS: readonly string[] = ['shared_buffers=16MB'];

/**
 * Creating the database (initdb) makes PGlite's memory grow to about 900 MB, which it then keeps;
 * done in a short-lived process, the process that serves opens it at about a quarter of that.
 */
function createInOwnProcess(pgDir: string, settings: readonly string[]): void {
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)});
const db = await PGlite.create(process.argv[1], { postgresqlconf: ${JSON.stringify(settings)} });
await db.close();`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, pgDir], {
    encoding: 'utf8',
  });
  if (run.status !== 0)
    throw new Error(`creating it failed: ${run.stderr.trim() || `exit ${run.status}`}`);
}

/**
 * Opens (creating on first use) the embedded database under `dir`, for this process alone:
 * PostgreSQL compiled to WebAssembly, running in this process, with BullMQ's tables and baton's.
 */
export async function openEmbeddedDatabase(
  dir: string,
  command: string,
  /** Called before the database is created, which takes seconds (not when it already exists). */
  creating: () => void = () => {},
  /** PostgreSQL's settings (for the bench, which compares them). */
  settings: readonly string[] = SETTINGS,
): Promise<EmbeddedDatabase> {
  const lock = DataDirLock.acquire(dir, command);
  let db: PGlite | undefined;
  try {
    const pgDir = join(dir, 'pg');
    if (!existsSync(join(pgDir, 'PG_VERSION'))) {
      creating();
      createInOwnProcess(pgDir, settings);
    }
    db = await PGlite.create(pgDir, {
      parsers: { 20: AS_TEXT, 1700: AS_TEXT },
      postgresqlconf: [...settings],
    });
    const pool = new PGlitePool(db);
    const client = await pool.connect();
    try {
      await runMigrations(client as unknown as PgPoolClient, 'bullmq');
    } finally {
      client.release();
    }
    await db.exec(BATON_SCHEMA);
    // BullMQ's statements name its tables without a schema.
    await db.exec('SET search_path TO bullmq, public');
    const opened = db;
    return {
      dir,
      pool,
      async close() {
        await pool.end();
        await opened.close();
        lock.release();
      },
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    lock.release();
    throw new Error(
      `the embedded database in ${dir} could not be opened: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
