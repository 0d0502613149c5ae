// `npm start` runs this instead of a full build: the build takes seconds even with nothing to do
// (the bundle is made again, the template's maker starts and checks the one there), and a second
// start with an unchanged tree should not wait for it. It builds exactly as `npm run build` does
// whenever anything the build reads may have changed since the build it recorded, and skips it
// only when nothing did.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build records the inputs it was made from (inside dist: removing dist removes it). */
export const STAMP = join('dist', '.build-inputs');
/**
 * What the build reads besides src/: its settings and scripts, the compiler and types installed,
 * and what the embedded database's template is made with (src/ holds baton's schema).
 */
const SETTINGS = [
  'tsconfig.json',
  'package.json',
  'package-lock.json',
  join('scripts', 'build.mjs'),
  join('scripts', 'bundle.mjs'),
  join('scripts', 'embedded-db-template.ts'),
  join('node_modules', 'esbuild', 'package.json'),
  // What npm installed: the bundle holds the packages' code, so another install is another build
  // (also one made by an `npm ci` elsewhere, into a node_modules this tree links to).
  join('node_modules', '.package-lock.json'),
  join('node_modules', '@electric-sql', 'pglite', 'package.json'),
  join('node_modules', 'bullmq', 'package.json'),
];
/** The list of files the bundle wrote (scripts/bundle.mjs): each must still be there. */
export const BUNDLE_OUTPUTS = join('dist', 'src', 'outputs.json');
/** What the build writes besides dist/src: the embedded database's template. */
const OUTPUTS = [
  join('dist', 'embedded-db-template.tar.gz'),
  join('dist', 'embedded-db-template.json'),
];

function filesUnder(directory) {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/** A digest of every input's path and content: the same digest means the same build. */
export function inputsDigest(root) {
  const hash = createHash('sha256');
  for (const file of [
    ...SETTINGS.map((name) => join(root, name)),
    ...filesUnder(join(root, 'src')),
  ]) {
    hash.update(`${relative(root, file)}\0`);
    hash.update(existsSync(file) ? readFileSync(file) : '(none)');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * Why the build must run, or undefined when the recorded build is of these very inputs and its
 * output is all there and untouched since (any other build, say `npm run build` of other sources,
 * writes newer files, so the record no longer speaks for them).
 */
export function whyBuild(root, digest = inputsDigest(root)) {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp)) return 'no build recorded';
  if (readFileSync(stamp, 'utf8').trim() !== digest) return 'sources or settings changed';
  const stamped = statSync(stamp).mtimeMs;
  let bundled;
  try {
    bundled = JSON.parse(readFileSync(join(root, BUNDLE_OUTPUTS), 'utf8'));
  } catch {
    return `${BUNDLE_OUTPUTS} is missing`;
  }
  for (const output of bundled) if (!existsSync(join(root, output))) return `${output} is missing`;
  for (const output of OUTPUTS) if (!existsSync(join(root, output))) return `${output} is missing`;
  for (const output of [
    ...filesUnder(join(root, 'dist', 'src')),
    ...OUTPUTS.map((name) => join(root, name)),
  ])
    if (statSync(output).mtimeMs > stamped) return `${relative(root, output)} was written since`;
  return undefined;
}

/** Builds `root` unless whyBuild says nothing changed; resolves with the build's exit status. */
export function buildIfChanged(root, build) {
  const digest = inputsDigest(root);
  if (whyBuild(root, digest) === undefined) return 0;
  // Removed first: a build that fails half-way must not leave a record of success behind.
  rmSync(join(root, STAMP), { force: true });
  const status = build(root);
  if (status === 0) writeFileSync(join(root, STAMP), `${digest}\n`);
  return status;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // scripts/build.mjs, as `npm run build` runs it.
  process.exitCode = buildIfChanged(
    root,
    (where) =>
      spawnSync(process.execPath, [join(where, 'scripts', 'build.mjs')], {
        cwd: where,
        stdio: 'inherit',
      }).status ?? 1,
  );
}
