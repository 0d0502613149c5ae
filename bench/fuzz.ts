// `npm run fuzz`: the command-injection property of test/unit/command-injection.test.ts, run
// 100,000 times (or the count given: `npm run fuzz -- 20000`), with a real /bin/sh checking what
// every rendered command means. Prints how each run ended and what it cost; exits 1 on a
// counterexample, which fast-check prints shrunk, with the seed to replay it.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  checkInjection,
  injectionInput,
  type Outcome,
} from '../test/support/injection-property.js';
import { PosixShell } from '../test/support/posix-shell.js';

const runs = Number(process.argv[2] ?? 100_000);
const seed =
  process.argv[3] === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.argv[3]);

/** CPU seconds of this process's reaped children (the shell and its subshells), from /proc. */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // cutime and cstime, fields 16 and 17 of stat(5), counted from the state field (3).
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const shell = new PosixShell();
const outcomes: Record<Outcome, number> = {
  'grammar refused': 0,
  'playbook refused': 0,
  'planner refused': 0,
  ran: 0,
};
const started = performance.now();
const cpu = process.cpuUsage();
let failed = false;
try {
  await fc.assert(
    fc.asyncProperty(injectionInput, async (input) => {
      outcomes[await checkInjection(input, shell)] += 1;
    }),
    { numRuns: runs, seed },
  );
} catch (error) {
  failed = true;
  console.error((error as Error).message);
} finally {
  await shell.close();
}
const wallS = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
const ownS = (used.user + used.system) / 1e6;
const shellS = childrenCpuSeconds();
console.log(
  `fuzz: ${runs} runs (seed ${seed}) in ${wallS.toFixed(1)} s; CPU ${ownS.toFixed(1)} s here + ${shellS.toFixed(1)} s in the shell`,
);
console.log(
  `  ${Object.entries(outcomes)
    .map(([outcome, count]) => `${outcome}: ${count}`)
    .join(', ')}${failed ? ' (stopped at a counterexample)' : ''}`,
);
process.exitCode = failed ? 1 : 0;
