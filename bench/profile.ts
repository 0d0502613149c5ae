// Reads a V8 CPU profile (`node --cpu-prof`) of a baton process for the whole-command bench:
// when the process was first seen inside each of a few of baton's functions (placed on the
// Date.now() clock with the marks bench/marks.mjs wrote), where its CPU went by package, and
// how much CPU ran inside a few functions. Sampling (1 ms) can miss a function that ran briefly,
// and an async function's work after an await inside a package is counted to that package.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
export interface Marks {
  booted: number;
  monotonicUs: number;
  loaded: number;
  exiting: number;
  /** CommonJS files loaded with baton's command module, by package. */
  packages: Record<string, number>;
}
export interface ProfileSummary {
  /** Date.now() of the first sample inside each function asked for, when one was seen. */
  firstSeen: Map<string, number>;
  /** ms of CPU by where it ran. */
  cpu: Map<string, number>;
  /** ms of CPU inside each function asked for (its callees included). */
  within: Map<string, number>;
  /** Date.now() of the last sample inside each function asked for. */
  lastSeen: Map<string, number>;
  /** From `tailFrom` on: ms by where it ran, idle included, and inside the functions asked for. */
  tail: Map<string, number>;
}

const BATON = '/dist/src/';

/** For each bundled file (dist/src), where each of its modules begins: [line, source path]. */
const bundledModules = new Map<string, [number, string][]>();

/**
 * The file a frame's code came from: in the bundle (dist/src), the module esbuild noted above it
 * (`// node_modules/bullmq/…`, `// src/app/…`), so a package bundled in is still told apart.
 */
export function sourceOf(frame: ProfileNode['callFrame']): string {
  const { url, lineNumber } = frame;
  if (!url.includes(BATON) || lineNumber === undefined) return url;
  let starts = bundledModules.get(url);
  if (starts === undefined) {
    starts = [];
    try {
      const lines = readFileSync(new URL(url), 'utf8').split('\n');
      lines.forEach((line, index) => {
        const module = /^\/\/ ((?:node_modules|src)\/\S+)$/.exec(line)?.[1];
        if (module !== undefined) starts?.push([index, `/${module}`]);
      });
    } catch {
      // not readable any more: the bundle's own name stands
    }
    bundledModules.set(url, starts);
  }
  let found = url;
  for (const [line, module] of starts) {
    if (line > lineNumber) break;
    found = module;
  }
  return found;
}

/** Where a sample ran, as the bench reports it (undefined: idle). */
export function bucket(frame: ProfileNode['callFrame']): string | undefined {
  const name = frame.functionName;
  const url = sourceOf(frame);
  if (name === '(idle)') return undefined;
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)' || name === '(root)') return 'V8 and node outside JavaScript';
  if (url.includes('@electric-sql/pglite')) return 'PGlite';
  // The only WebAssembly in baton is PGlite's PostgreSQL.
  if (url.startsWith('wasm://')) return 'PGlite (WebAssembly)';
  if (url.includes('/ssh2/') || url.includes('/node-ssh/')) return 'ssh2';
  if (url.includes('/bullmq/') || url.includes('/ioredis/')) return 'BullMQ, ioredis';
  // Built (dist/src/) or run from the sources with tsx (src/).
  if (url.includes('/src/')) return 'baton';
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.startsWith('node:')) return 'node built-in modules';
  return 'native (JSON, compiling, crypto…)';
}

export function readProfile(
  path: string,
  marks: Marks,
  functions: readonly string[],
  tailFrom = Infinity,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const ours = (node: ProfileNode, name: string) =>
    node.callFrame.functionName === name && node.callFrame.url.includes(BATON);
  // Which of the functions asked for are on each node's stack.
  const onStack = new Map<number, Set<string>>();
  const stackOf = (id: number): Set<string> => {
    const known = onStack.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const names = new Set(up === undefined ? [] : stackOf(up));
    const node = byId.get(id) as ProfileNode;
    for (const name of functions) if (ours(node, name)) names.add(name);
    onStack.set(id, names);
    return names;
  };
  const firstSeen = new Map<string, number>();
  const cpu = new Map<string, number>();
  const within = new Map<string, number>();
  const lastSeen = new Map<string, number>();
  const tail = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number) =>
    map.set(key, (map.get(key) ?? 0) + ms);
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    const node = byId.get(id) as ProfileNode;
    const where = bucket(node.callFrame);
    const ms = delta / 1000;
    const when = marks.booted + (at - marks.monotonicUs) / 1000;
    const inTail = when >= tailFrom;
    if (inTail) add(tail, where ?? 'idle (waiting)', ms);
    if (where === undefined) return;
    add(cpu, where, ms);
    for (const name of stackOf(id)) {
      add(within, name, ms);
      if (inTail) add(tail, `inside ${name}`, ms);
      if (!firstSeen.has(name)) firstSeen.set(name, when);
      lastSeen.set(name, when);
    }
  });
  return { firstSeen, cpu, within, lastSeen, tail };
}
