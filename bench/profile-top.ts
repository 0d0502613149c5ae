// Summarizes V8 CPU profiles (`--cpu-prof`, or the fleet bench's BENCH_CPU_PROFILE): for each file
// given, its CPU by where it ran and the functions that spent the most of it themselves.
// `npx tsx bench/profile-top.ts FILE... [--top N]`
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { bucket, sourceOf } from './profile.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt < 0 ? 25 : Number(args[topAt + 1]);
const files = args.filter((_, index) => index !== topAt && index !== topAt + 1);

const add = (map: Map<string, number>, key: string, ms: number) =>
  map.set(key, (map.get(key) ?? 0) + ms);
const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const where = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const frame = (byId.get(id) as Node).callFrame;
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const place = bucket(frame);
    if (place === undefined) return;
    busy += ms;
    add(where, place, ms);
    const source = sourceOf(frame);
    const at =
      source === '' ? '' : ` ${source.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
    add(functions, `${frame.functionName || '(anonymous)'}${at}`, ms);
  });
  console.log(`${basename(file)}: ${busy.toFixed(0)} ms of CPU on the main thread`);
  for (const [place, ms] of sorted(where))
    console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${place}`);
  console.log('  most CPU in the function itself:');
  for (const [name, ms] of sorted(functions).slice(0, top))
    console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
}
