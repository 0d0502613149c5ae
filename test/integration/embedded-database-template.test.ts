import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  recordOf,
  sha256,
  unpackTemplate,
  usableTemplate,
  type TemplateRecord,
} from '../../src/adapters/embedded/database-template.js';
import {
  openEmbeddedDatabase,
  SETTINGS,
  type EmbeddedDatabase,
} from '../../src/adapters/embedded/embedded-database.js';
import { SqlHistory } from '../../src/adapters/embedded/sql-stores.js';
import type { HistoryEntry } from '../../src/app/store-ports.js';

// One template for the file, made by the build's own script (initdb: seconds, in its process).
let root: string;
let template: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-db-template-'));
  const script = fileURLToPath(new URL('../../scripts/embedded-db-template.ts', import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', script, join(root, 'template')]);
  template = join(root, 'template', 'embedded-db-template.tar.gz');
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

let dirs = 0;
const newDir = () => join(root, `data-${++dirs}`, 'db');

/** Opens `dir`, counting the times it had to fall back to initdb. */
async function open(dir: string, from = template) {
  let initdb = 0;
  const database = await openEmbeddedDatabase(dir, 'test', () => (initdb += 1), SETTINGS, from);
  return { database, initdb };
}

const entry = (rollout: string): HistoryEntry => ({
  service: 'svc',
  environment: 'test',
  rollout,
  kind: 'deploy',
  version: 'v2',
  previousVersion: 'v1',
  by: 'test',
  startedAt: 1,
  finishedAt: 2,
  result: 'succeeded',
});

/** What an open made: BullMQ's migrations and baton's tables. */
async function tablesOf(database: EmbeddedDatabase) {
  const migrations = await database.pool.query('SELECT version FROM bullmq.migration ORDER BY 1');
  const tables = await database.pool.query(
    "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('baton', 'bullmq') ORDER BY 1, 2",
  );
  return { migrations: migrations.rows, tables: tables.rows };
}

/** A template whose tarball breaks off half-way, recorded as whole (so only unpacking finds out). */
function cutShort(into: string): string {
  const tar = gunzipSync(readFileSync(template));
  const tarball = gzipSync(tar.subarray(0, Math.floor(tar.length / 2)));
  const record = JSON.parse(readFileSync(recordOf(template), 'utf8')) as TemplateRecord;
  const file = join(into, 'embedded-db-template.tar.gz');
  writeFileSync(file, tarball);
  writeFileSync(
    recordOf(file),
    JSON.stringify({ ...record, bytes: tarball.length, sha256: sha256(tarball) }),
  );
  return file;
}

describe('the embedded database made from the template', () => {
  it('opens a new data directory without initdb, and what is stored there survives a reopen', async () => {
    const dir = newDir();
    const first = await open(dir);
    expect(first.initdb).toBe(0);
    expect(await new SqlHistory(first.database.pool).record(entry('r1'))).toBe(true);
    await first.database.close();

    const again = await open(dir);
    expect(again.initdb).toBe(0);
    const history = new SqlHistory(again.database.pool);
    expect(await history.list({ service: 'svc', environment: 'test' }, 10)).toEqual([entry('r1')]);
    // Nothing of the making is left beside it.
    expect(readdirSync(dir).sort()).toEqual(['baton.lock', 'pg']);
    await again.database.close();
  });

  it('passes over a template of another PGlite, a damaged one, and a missing one', async () => {
    const record = JSON.parse(readFileSync(recordOf(template), 'utf8')) as TemplateRecord;
    const other = join(root, 'other-pglite', 'embedded-db-template.tar.gz');
    await mkdir(join(root, 'other-pglite'));
    writeFileSync(other, readFileSync(template));
    writeFileSync(recordOf(other), JSON.stringify({ ...record, pglite: '0.4.0' }));
    expect(usableTemplate(other)).toEqual({
      unusable: `template made with pglite 0.4.0, not ${record.pglite}`,
    });

    const damaged = join(root, 'damaged', 'embedded-db-template.tar.gz');
    await mkdir(join(root, 'damaged'));
    const bytes = readFileSync(template);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(damaged, bytes);
    writeFileSync(recordOf(damaged), JSON.stringify(record));
    expect(usableTemplate(damaged)).toEqual({
      unusable: 'template damaged: its content is not what was recorded',
    });

    expect(usableTemplate(join(root, 'nowhere.tar.gz'))).toMatchObject({
      unusable: expect.stringMatching(/^no template: ENOENT/),
    });
    expect(usableTemplate(template)).toHaveProperty('tarball');
  });

  it('falls back to initdb when the template breaks off midway, to the same tables as the template’s', async () => {
    await mkdir(join(root, 'cut-short'));
    const dir = newDir();
    const made = await open(dir, cutShort(join(root, 'cut-short')));
    expect(made.initdb).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['baton.lock', 'pg']);
    const byInitdb = await tablesOf(made.database);
    await made.database.close();

    const fromTemplate = await open(newDir());
    expect(await tablesOf(fromTemplate.database)).toEqual(byInitdb);
    expect(byInitdb.tables).toContainEqual({ schemaname: 'baton', tablename: 'history' });
    await fromTemplate.database.close();
  });

  it('after a process died unpacking the template, the next open clears what it left and makes the database whole', async () => {
    const dir = newDir();
    await mkdir(dir, { recursive: true });
    // What a process killed half-way leaves: part of the data directory under the name it
    // unpacks into (of a pid no longer running), with PG_VERSION (first in some tarballs).
    const left = join(dir, 'pg.making-999999');
    await mkdir(join(root, 'killed'));
    const { tarball } = usableTemplate(cutShort(join(root, 'killed'))) as { tarball: Buffer };
    expect(() => unpackTemplate(tarball, left)).toThrow(/template damaged/);
    writeFileSync(join(left, 'PG_VERSION'), '18\n');
    expect(existsSync(join(left, 'global', 'pg_control'))).toBe(true);
    // And a data directory an older baton's initdb left before its PG_VERSION: no database.
    await mkdir(join(dir, 'pg', 'base'), { recursive: true });

    const made = await open(dir);
    expect(made.initdb).toBe(0);
    expect(await new SqlHistory(made.database.pool).record(entry('r2'))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['baton.lock', 'pg']);
    await made.database.close();
  });
});
