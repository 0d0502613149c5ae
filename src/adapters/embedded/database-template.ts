import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { BATON_SCHEMA } from './schema.js';

// A new database made ahead by the build (scripts/embedded-db-template.ts): PGlite's data
// directory as a gzipped tar, after initdb, BullMQ's migrations and baton's schema, which on an
// empty database take seconds and a second of a newcomer's first command. Beside it, a record of
// what made it.

/** Where the build puts it: dist/, beside dist/src (from the sources, there is none). */
export const BUILT_TEMPLATE = fileURLToPath(
  new URL('../../../embedded-db-template.tar.gz', import.meta.url),
);
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
  } catch (error) {
    return { unusable: `no template: ${(error as Error).message}` };
  }
  const why = mismatch(record);
  if (why !== undefined) return { unusable: why };
  if (sha256(tarball) !== record.sha256)
    return { unusable: 'template damaged: its content is not what was recorded' };
  return { tarball };
}

const text = (block: Buffer, start: number, length: number): string => {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
};

/** A tar header's checksum: the sum of its bytes, its checksum field counted as spaces. */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let index = 0; index < 512; index++)
    sum += index >= 148 && index < 156 ? 0x20 : (header[index] ?? 0);
  return sum === parseInt(text(header, 148, 8).trim(), 8);
}

/**
 * Writes the data directory in the gzipped tar `tarball` (as PGlite's dumpDataDir makes it: ustar,
 * files and directories only) under `dir`. Throws, having written part of it, on anything else.
 */
export function unpackTemplate(tarball: Buffer, dir: string): void {
  const tar = gunzipSync(tarball);
  mkdirSync(dir, { recursive: true });
  for (let at = 0; ;) {
    const header = tar.subarray(at, at + 512);
    if (header.length < 512) throw new Error('template cut short: no end of archive');
    if (header.every((byte) => byte === 0)) return;
    if (!checksumOk(header)) throw new Error(`template damaged: a bad header at byte ${at}`);
    const prefix = text(header, 257, 6) === 'ustar' ? text(header, 345, 155) : '';
    const name = [prefix, text(header, 0, 100)].filter(Boolean).join('/');
    const parts = name.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.length === 0 || parts.includes('..'))
      throw new Error(`template holds an unsafe path: ${name}`);
    const size = parseInt(text(header, 124, 12).trim() || '0', 8);
    const body = tar.subarray(at + 512, at + 512 + size);
    if (body.length < size) throw new Error(`template cut short in ${name}`);
    const type = String.fromCharCode(header[156] ?? 0);
    const path = join(dir, ...parts);
    if (type === '5') mkdirSync(path, { recursive: true });
    else if (type === '0' || type === '\0') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, body);
    } else throw new Error(`template holds ${name} of tar type ${JSON.stringify(type)}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
