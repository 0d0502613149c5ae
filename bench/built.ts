// The benches that run baton as an installed `baton` would run it from `dist/`: rebuilt first
// when a source is newer (or the embedded database template is missing), so they measure what the
// sources say.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bin = join(root, 'dist/src/bin.js');

export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory()
          ? newest(join(dir, entry.name))
          : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  const template = join(root, 'dist/embedded-db-template.json');
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest(join(root, 'src')) && existsSync(template))
    return;
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('npm run build failed');
}
