// The benches that run baton as an installed `baton` would run it from `dist/`: rebuilt first, as
// `npm start` rebuilds, when anything the build reads has changed, so they measure what the
// sources say.
import { spawnSync } from 'node:child_process';
import { buildIfChanged } from '../scripts/build-if-changed.mjs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bin = join(root, 'dist/src/bin.js');

export function ensureBuilt(): void {
  const status = buildIfChanged(
    root,
    (where) =>
      spawnSync(process.execPath, [join(where, 'scripts/build.mjs')], {
        cwd: where,
        stdio: 'inherit',
      }).status ?? 1,
  );
  if (status !== 0) throw new Error('npm run build failed');
}
