import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlitePool } from '../../src/adapters/embedded/pglite-pool.js';

let db: PGlite;
let pool: PGlitePool;
beforeAll(async () => {
  db = await PGlite.create({ parsers: { 20: (value: string) => value } });
  pool = new PGlitePool(db);
  await pool.query('CREATE TABLE t (n int8)');
}, 60_000);
afterAll(async () => {
  await pool.end();
  await db.close();
});

describe('PGlitePool (one in-process session shared as a pool)', () => {
  it('runs statements with parameters as PGlite would, typed as the database infers them', async () => {
    const { rows } = await pool.query(
      `SELECT $1::int8 AS big, $2::int4 AS small, $3::bool AS yes, $4::json AS doc,
         $5::text[] AS list, $6::text AS nothing`,
      [12, 7, true, { a: 'x "y"' }, ['a,b', 'c"d', 'e\\f'], null],
    );
    expect(rows[0]).toEqual({
      big: '12',
      small: 7,
      yes: true,
      doc: { a: 'x "y"' },
      list: ['a,b', 'c"d', 'e\\f'],
      nothing: null,
    });
  });

  it('keeps working after a statement fails, and for more statements than it keeps prepared', async () => {
    await expect(pool.query('SELECT $1::int4 AS n', ['not a number'])).rejects.toThrow(
      /invalid input syntax/,
    );
    await expect(pool.query('SELEC $1', [1])).rejects.toThrow(/syntax error/);
    for (let index = 0; index < 300; index++) {
      const { rows } = await pool.query(`SELECT $1::int4 + ${index} AS n`, [1]);
      expect(rows[0]?.n).toBe(index + 1);
    }
    // The first of them was closed to make room, and is prepared again when it comes back.
    expect((await pool.query('SELECT $1::int4 + 0 AS n', [5])).rows[0]?.n).toBe(5);
    expect((await pool.query('SELECT $1::int4 AS n', [3])).rows[0]?.n).toBe(3);
  });

  it('keeps other statements out of an open transaction until it commits', async () => {
    const tx = await pool.connect();
    await tx.query('BEGIN');
    await tx.query('INSERT INTO t VALUES ($1)', [1]);
    const order: string[] = [];
    const outside = pool.query('SELECT count(*) AS n FROM t').then((result) => {
      order.push('outside');
      return result.rows[0]?.n;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('commit');
    await tx.query('COMMIT');
    tx.release();
    // Had it run inside the transaction, it would have come first.
    expect(await outside).toBe('1');
    expect(order).toEqual(['commit', 'outside']);
  });

  it('undoes a transaction its client left open on release, and frees the session', async () => {
    const tx = await pool.connect();
    await tx.query('BEGIN');
    await tx.query('INSERT INTO t VALUES ($1)', [99]);
    tx.release();
    const { rows } = await pool.query('SELECT count(*) AS n FROM t WHERE n = $1', [99]);
    expect(rows[0]?.n).toBe('0');
  });

  it('runs scripts of several statements, answering with the last', async () => {
    const { rows } = await pool.query('INSERT INTO t VALUES (2); SELECT max(n) AS m FROM t');
    expect(rows).toEqual([{ m: '2' }]);
  });

  it('gives bigints as strings, as node-postgres does', async () => {
    const { rows } = await pool.query('SELECT $1::int8 AS big', ['9007199254740993']);
    expect(rows[0]?.big).toBe('9007199254740993');
  });

  it('delivers NOTIFY to every client that LISTENs, also when they subscribe at once', async () => {
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    const heard = clients.map(() => [] as unknown[]);
    clients.forEach((client, index) =>
      client.on('notification', (message) => heard[index]?.push(message)),
    );
    await Promise.all(clients.map((client) => client.query('LISTEN together')));
    await pool.query("SELECT pg_notify('together', 'hello')");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual(clients.map(() => [{ channel: 'together', payload: 'hello' }]));
    for (const client of clients) client.release();
  });

  it('delivers NOTIFY to the clients that LISTEN, and stops on UNLISTEN', async () => {
    const listener = await pool.connect();
    const other = await pool.connect();
    const heard: unknown[] = [];
    const otherHeard: unknown[] = [];
    listener.on('notification', (message) => heard.push(message));
    other.on('notification', (message) => otherHeard.push(message));
    await listener.query('-- wake workers\nLISTEN jobs;');
    await pool.query("SELECT pg_notify('jobs', 'q1')");
    await listener.query('UNLISTEN jobs');
    await pool.query("SELECT pg_notify('jobs', 'q2')");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual([{ channel: 'jobs', payload: 'q1' }]);
    expect(otherHeard).toEqual([]);
    listener.release();
    other.release();
  });
});
