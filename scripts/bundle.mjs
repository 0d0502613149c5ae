// The command as it runs once built: baton and the packages it loads bundled by esbuild into
// dist/src/bin.js (and dist/src/cli.js, the command module without the process around it) and
// the chunks their lazily loaded parts share. Loading ~180 of baton's files and ~450 of its
// packages' one by one took a command 100–200 ms of resolving, reading and compiling before it
// did anything; bundled, each command reads a few files.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { BUNDLE_OUTPUTS } from './build-if-changed.mjs';

/**
 * Left to node's own loading, from node_modules: what finds files of its own at run time (PGlite's
 * WebAssembly and data, ssh2's and fs-native-extensions' native addons, pino's worker threads,
 * msgpackr's optional native decoder) and tar, needed only to unpack the database's template.
 */
export const EXTERNAL = [
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
  'ssh2',
  'cpu-features',
  'fs-native-extensions',
  'pino',
  'pino-pretty',
  'msgpackr-extract',
  'tar',
];

/**
 * BullMQ is required (not imported) from the sources, where an ESM import of its index makes
 * node scan every file it re-exports; bundled, there are no files to scan, and a static import
 * lets it into the bundle.
 */
const bullmqBundled = {
  name: 'bullmq-bundled',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]adapters[\\/]queue[\\/]bullmq\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const required = "createRequire(import.meta.url)('bullmq') as typeof BullMQ";
      if (!source.includes(required))
        throw new Error(`${args.path} no longer loads bullmq as the bundle expects`);
      return {
        loader: 'ts',
        contents: `import * as bundledBullMQ from 'bullmq';\n${source.replace(required, 'bundledBullMQ')}`,
      };
    });
  },
};

/**
 * Bundles `root`'s command into dist/src, replacing what was there: written beside it and renamed
 * into place, so that a command starting meanwhile finds the old bundle or the new one whole.
 */
export async function bundle(root) {
  const target = join(root, 'dist', 'src');
  const outdir = `${target}.making-${process.pid}`;
  await rm(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/bin.ts', 'src/cli.ts'],
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages in an ES module still call require (for node's own modules and the
    // externals above): give them one.
    banner: {
      js: "import { createRequire as bundledCreateRequire } from 'node:module'; const require = bundledCreateRequire(import.meta.url);",
    },
    // For NODE_OPTIONS=--enable-source-maps: stack traces that name baton's sources.
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [bullmqBundled],
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) =>
    relative(outdir, join(root, file)),
  );
  const listed = outputs.map((file) => relative(root, join(target, file)));
  await writeFile(
    join(outdir, relative(target, join(root, BUNDLE_OUTPUTS))),
    `${JSON.stringify(listed, null, 1)}\n`,
  );
  const old = `${target}.old-${process.pid}`;
  await rename(target, old).catch(() => undefined);
  await rename(outdir, target);
  await rm(old, { recursive: true, force: true });
  return listed;
}
