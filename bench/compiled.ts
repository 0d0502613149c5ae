// Runs a bench compiled to JavaScript with plain node, as an installed worker runs, rather than
// through tsx: tsx's compiler and its copies of every source hold ~80 MB of the process's
// resident memory, which a bench of memory must not count as baton's.
// Usage: tsx bench/compiled.ts bench/<name>.ts [args...]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './built.js';

const [source, ...args] = process.argv.slice(2);
if (source === undefined || !source.endsWith('.ts')) {
  console.error('usage: tsx bench/compiled.ts bench/<name>.ts [args...]');
  process.exit(2);
}
const out = join(root, 'dist-bench');
const compiled = spawnSync(
  'npx',
  ['tsc', '-p', 'tsconfig.json', '--noEmit', 'false', '--sourceMap', 'false', '--outDir', out],
  { cwd: root, stdio: 'inherit' },
);
if (compiled.status !== 0) throw new Error('compiling the benches failed');
const ran = spawnSync(
  process.execPath,
  ['--expose-gc', join(out, source.replace(/\.ts$/, '.js')), ...args],
  { cwd: root, stdio: 'inherit' },
);
process.exit(ran.status ?? 1);
