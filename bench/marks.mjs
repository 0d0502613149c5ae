// Loaded with `node --import` ahead of baton in the whole-command bench's profiled runs (never
// in its timed ones). It notes when node has booted, loads baton's command module (and so its
// whole static module graph) to time that and to count the CommonJS files it brought in by
// package, and when the process exits writes the times, with the monotonic clock's reading at
// the first mark so a CPU profile's timestamps can be placed.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const booted = Date.now();
const monotonicUs = Number(process.hrtime.bigint() / 1000n);
await import(process.env.BENCH_CLI_MODULE);
const loaded = Date.now();
const files = Object.keys(createRequire(import.meta.url).cache);
const packages = {};
for (const file of files) {
  const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? '(not a package)';
  packages[name] = (packages[name] ?? 0) + 1;
}
process.on('exit', () => {
  writeFileSync(
    process.env.BENCH_MARKS_FILE,
    JSON.stringify({
      booted,
      monotonicUs,
      loaded,
      exiting: Date.now(),
      packages,
    }),
  );
});
