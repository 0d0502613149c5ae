// Makes the embedded database's template (src/adapters/embedded/database-template.ts), which a
// newcomer's first command unpacks instead of running initdb and the migrations: `npm run build`
// runs this beside tsc, with tsx (it runs baton's own code for it, from the sources). It does
// nothing when the template there is this installation's (PGlite, BullMQ and baton's schema).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import {
  BUILT_TEMPLATE,
  installedMaker,
  recordOf,
  sha256,
  usableTemplate,
  type TemplateRecord,
} from '../src/adapters/embedded/database-template.js';
import { makeTables, pgliteOptions, SETTINGS } from '../src/adapters/embedded/embedded-database.js';
import { PGlitePool } from '../src/adapters/embedded/pglite-pool.js';

/** The tarball's name, the same wherever it is made. */
const TARBALL = basename(BUILT_TEMPLATE);

/**
 * Why the template in `dir` must be made (again): what makes an open pass it over (none there,
 * another installation's, damaged); undefined when an open would use it.
 */
function whyMake(dir: string): string | undefined {
  const usable = usableTemplate(join(dir, TARBALL));
  return 'unusable' in usable ? usable.unusable : undefined;
}

/** Makes the template in `dir` unless the one there is this installation's. */
export async function makeTemplate(dir: string): Promise<string> {
  const why = whyMake(dir);
  if (why === undefined) return 'kept';
  // In memory: the data directory is wanted only as the tarball PGlite dumps of it. initdb takes
  // this process to ~900 MB; it ends here.
  const db = await PGlite.create(pgliteOptions(SETTINGS));
  await makeTables(new PGlitePool(db), db);
  const { rows } = await db.query<{ server_version: string }>('SHOW server_version');
  const tarball = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
  await db.close();
  const record: TemplateRecord = {
    ...installedMaker(),
    postgres: rows[0]?.server_version ?? 'unknown',
    settings: SETTINGS,
    bytes: tarball.length,
    sha256: sha256(tarball),
  };
  mkdirSync(dir, { recursive: true });
  // Each file whole or not at all; the record last, so that it never speaks for another tarball.
  const file = join(dir, TARBALL);
  writeFileSync(`${file}.new`, tarball);
  renameSync(`${file}.new`, file);
  writeFileSync(`${recordOf(file)}.new`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${recordOf(file)}.new`, recordOf(file));
  return `made (${why})`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
  const started = performance.now();
  const outcome = await makeTemplate(dir);
  if (outcome !== 'kept')
    console.log(
      `embedded database template ${outcome} in ${Math.round(performance.now() - started)} ms`,
    );
}
