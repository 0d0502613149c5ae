import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type * as Tar from 'tar';
import { BATON_SCHEMA } from './schema.js';

// A new database made ahead by the build (scripts/embedded-db-template.ts): PGlite's data
// directory as a gzipped tar, after initdb, BullMQ's migrations and baton's schema, which on an
// empty database take seconds and a second of a newcomer's first command. Beside it, a record of
// what made it.

/**
 * Where the build puts it: in dist/, beside dist/src and its chunks, wherever in there this code
 * was bundled. From the sources (no dist/ above them) beside this file, where there is none.
 */
export const BUILT_TEMPLATE = join(builtDir(), 'embedded-db-template.tar.gz');

/** The package's dist/ this module was loaded from, or this module's own directory. */
function builtDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir))
    if (basename(dir) === 'dist' && existsSync(join(dir, 'src', 'bin.js'))) return dir;
  return here;
}
/** The record beside a template's tarball. */
export const recordOf = (tarballFile: string): string => tarballFile.replace(/\.tar\.gz$/, '.json');

/** What a template was made by: a template is used only where all of it is what is installed. */
export interface TemplateMaker {
  /** Of the template's files: bumped when they change shape. */
  format: number;
  /** Another PGlite's data directory may not open, or open subtly wrong. */
  pglite: string;
  /** Its migrations are in the template: an older one's are topped up, a newer one's are not. */
  bullmq: string;
  /** A digest of baton's schema, whose tables are in the template. */
  schema: string;
}

export interface TemplateRecord extends TemplateMaker {
  /** PostgreSQL's, from the template's database. */
  postgres: string;
  /** PostgreSQL's settings it was made with. PGlite writes postgresql.conf on every open. */
  settings: readonly string[];
  bytes: number;
  sha256: string;
}

/** The version of the package `name` that this process loads. */
function installedVersion(name: string): string {
  for (
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    dir !== dirname(dir);
    dir = dirname(dir)
  ) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (manifest.name === name) return manifest.version;
    } catch {
      // no package.json here: one further up
    }
  }
  throw new Error(`cannot tell the version of ${name}`);
}

export const sha256 = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('hex');

/** What a template for this installation is made by. */
export const installedMaker = (): TemplateMaker => ({
  format: 1,
  pglite: installedVersion('@electric-sql/pglite'),
  bullmq: installedVersion('bullmq'),
  schema: sha256(BATON_SCHEMA),
});

/** Why a template recorded as `record` is not this installation's, or undefined when it is. */
export function mismatch(record: Partial<TemplateMaker>): string | undefined {
  const installed = installedMaker();
  for (const key of ['format', 'pglite', 'bullmq', 'schema'] as const)
    if (record[key] !== installed[key])
      return `template made with ${key} ${String(record[key])}, not ${installed[key]}`;
  return undefined;
}

/** The template's tarball if it is there, whole, and this installation's; otherwise why not. */
export function usableTemplate(tarballFile: string): { tarball: Buffer } | { unusable: string } {
  let record: TemplateRecord;
  let tarball: Buffer;
  try {
    record = JSON.parse(readFileSync(recordOf(tarballFile), 'utf8')) as TemplateRecord;
    tarball = readFileSync(tarballFile);
    const why = mismatch(record);
    if (why !== undefined) return { unusable: why };
  } catch (error) {
    return { unusable: `no template: ${(error as Error).message}` };
  }
  if (sha256(tarball) !== record.sha256)
    return { unusable: 'template damaged: its content is not what was recorded' };
  return { tarball };
}

/**
 * Writes the data directory in the gzipped tar `tarball` (PGlite's dumpDataDir) under `dir`.
 * Throws, having written part of it, when the archive is damaged or cut short.
 */
export function unpackTemplate(tarball: Buffer, dir: string): void {
  mkdirSync(dir, { recursive: true });
  let failed: string | undefined;
  // Loaded here: only a newcomer's first open needs it.
  const { UnpackSync } = createRequire(import.meta.url)('tar') as typeof Tar;
  const unpacking = new UnpackSync({
    cwd: dir,
    // PGlite names its files from the root (/PG_VERSION): placed under `dir`, as tar does anyway,
    // and said in an "info" that is no fault. Every other warning is (a bad header, a cut).
    onwarn: (code: string, message: string | Error) => {
      if (code !== 'TAR_ENTRY_INFO')
        failed ??= String(message instanceof Error ? message.message : message);
    },
  });
  unpacking.on('error', (error: Error) => (failed ??= error.message));
  // Every write of the synchronous unpacker is done when end() returns.
  unpacking.end(tarball);
  if (failed !== undefined) throw new Error(`template damaged: ${failed}`);
}
