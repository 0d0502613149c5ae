// Opens the embedded backend in the directory given (a new one made from the template given
// second, if any) and prints how long that took and the process's memory, as one JSON line: run
// by bench/embedded.ts in a process of its own.
import { openEmbeddedBackend } from '../src/main.js';

const started = performance.now();
const backend = await openEmbeddedBackend(process.argv[2] ?? '.data/bench', {
  command: 'bench',
  template: process.argv[3] || undefined,
});
const openMs = performance.now() - started;
const rssMb = process.memoryUsage().rss / 1e6;
await backend.close();
process.stdout.write(`${JSON.stringify({ openMs, rssMb })}\n`);
