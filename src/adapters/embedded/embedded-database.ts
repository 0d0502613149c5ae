import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { runMigrations, type PgPoolClient } from '../queue/bullmq.js';
import { DataDirLock } from './data-dir-lock.js';
import { BUILT_TEMPLATE, unpackTemplate, usableTemplate } from './database-template.js';
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
  /** Settles, with why, if the data directory is removed or replaced under this process. */
  lost: Promise<string>;
  close(): Promise<void>;
}

// node-postgres gives bigint and numeric as strings; BullMQ's SQL layer expects that.
const AS_TEXT = (value: string) => value;
// baton's tables are small: PostgreSQL's default 128 MB of buffers only costs memory here.
export const SETTINGS: readonly string[] = ['shared_buffers=16MB'];

/** How baton opens PGlite (the template is made with the same). */
export const pgliteOptions = (settings: readonly string[]) => ({
  parsers: { 20: AS_TEXT, 1700: AS_TEXT },
  postgresqlconf: [...settings],
});

/** BullMQ's tables and baton's, made where missing: on every open, and ahead in the template. */
export async function makeTables(pool: PGlitePool, db: PGlite): Promise<void> {
  const client = await pool.connect();
  try {
    await runMigrations(client as unknown as PgPoolClient, 'bullmq');
  } finally {
    client.release();
  }
  await db.exec(BATON_SCHEMA);
}

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
 * Makes the database at `pgDir` from the template when there is a usable one (a second or so),
 * otherwise by initdb (seconds). Either is made beside it and renamed into place: PostgreSQL's
 * files are written one by one, in no set order (PG_VERSION may come first), and a process
 * killed half-way must not leave a directory that looks like a database. (The caller holds the
 * data directory's lock: what is under a name of that kind was left by a process that died.)
 */
function createDatabase(
  pgDir: string,
  settings: readonly string[],
  template: string,
  creating: () => void,
): void {
  const making = `${basename(pgDir)}.making-`;
  for (const left of readdirSync(dirname(pgDir)).filter((name) => name.startsWith(making)))
    rmSync(join(dirname(pgDir), left), { recursive: true, force: true });
  const made = join(dirname(pgDir), `${making}${process.pid}`);
  const usable = usableTemplate(template);
  let passedOver = 'unusable' in usable ? usable.unusable : '';
  if ('tarball' in usable)
    try {
      unpackTemplate(usable.tarball, made);
    } catch (error) {
      passedOver = (error as Error).message;
      rmSync(made, { recursive: true, force: true });
    }
  if (passedOver !== '') {
    creating();
    try {
      createInOwnProcess(made, settings);
    } catch (error) {
      throw new Error(`${(error as Error).message} (no template used: ${passedOver})`, {
        cause: error,
      });
    }
  }
  // Without PG_VERSION it is no database (an older baton's initdb that died, say): replaced.
  rmSync(pgDir, { recursive: true, force: true });
  renameSync(made, pgDir);
}

/**
 * Opens (creating on first use) the embedded database under `dir`, for this process alone:
 * PostgreSQL compiled to WebAssembly, running in this process, with BullMQ's tables and baton's.
 */
export async function openEmbeddedDatabase(
  dir: string,
  command: string,
  /** Called before the database is made by initdb, which takes seconds (not from the template). */
  creating: () => void = () => {},
  /** PostgreSQL's settings (for the bench, which compares them). */
  settings: readonly string[] = SETTINGS,
  /** The template a new database is made from when it fits this PGlite (the build makes one). */
  template: string = BUILT_TEMPLATE,
): Promise<EmbeddedDatabase> {
  const lock = DataDirLock.acquire(dir, command);
  let db: PGlite | undefined;
  try {
    const pgDir = join(dir, 'pg');
    if (!existsSync(join(pgDir, 'PG_VERSION'))) createDatabase(pgDir, settings, template, creating);
    db = await PGlite.create(pgDir, pgliteOptions(settings));
    const pool = new PGlitePool(db);
    await makeTables(pool, db);
    // BullMQ's statements name its tables without a schema.
    await db.exec('SET search_path TO bullmq, public');
    const opened = db;
    return {
      dir,
      pool,
      lost: new Promise((resolve) => lock.watch(resolve)),
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
