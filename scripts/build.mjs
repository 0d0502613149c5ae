// `npm run build`, and the build `npm start` runs when something changed: the command bundled by
// esbuild (scripts/bundle.mjs; under a second), and beside it, in another process (it takes
// seconds of WebAssembly), the embedded database's template, which it makes only when the
// installed PGlite's is not there. Types are checked by `npm run typecheck` (`npm run check`),
// not here: a start need not wait for tsc reading every dependency's types.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

const run = (root, args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });

const bundled = (root) =>
  bundle(root).then(
    () => 0,
    (error) => {
      console.error(`baton: the build failed: ${error.message}`);
      return 1;
    },
  );

/** Resolves with the build's exit status: the bundle's. */
export async function build(root) {
  const statuses = await Promise.all([
    bundled(root),
    run(root, [
      '--import',
      'tsx',
      join(root, 'scripts', 'embedded-db-template.ts'),
      join(root, 'dist'),
    ]),
  ]);
  // Without a template a newcomer's first command runs initdb, as before: slower, never broken. A
  // machine that cannot make one (initdb takes ~900 MB) still builds, and starts.
  if (statuses[1] !== 0)
    console.warn(
      'baton: the embedded database template was not made; a new database will be made by initdb',
    );
  return statuses[0];
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  process.exitCode = await build(fileURLToPath(new URL('..', import.meta.url)));
