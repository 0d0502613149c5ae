// Where a rollout's span goes, group by group: a rollout run in this process on the fleet (as the
// first part of `npm run bench`), each update and health check timed on the monotonic clock the
// fleet's services journal on, so the time from a step's start to the host going down, from the
// host serving again to baton seeing it healthy, and between groups can be told apart. Beside it,
// the floor (one host's restart command + spin-up, × groups) and the same with a whole group
// restarted at once by hand, which is what the fleet's own processes cost on these cores.
// Prints figures; asserts nothing. `npx tsx bench/span-detail.ts` (BENCH_SIZES, default 60x6).
import { readFile } from 'node:fs/promises';
import { systemClock } from '../src/adapters/clock/system-clock.js';
import { NetworkHealthProbe } from '../src/adapters/health/network-health-probe.js';
import { SshExecutor } from '../src/adapters/ssh/ssh-executor.js';
import { ChildProcessShell } from '../src/adapters/controller/child-process-shell.js';
import { preflight } from '../src/app/worker/preflight.js';
import { RolloutRun } from '../src/app/worker/run-rollout.js';
import { planRollout } from '../src/core/rollout/index.js';
import type { RolloutUpdate } from '../src/app/worker/run-rollout.js';
import { Fleet } from '../test/fleet/fleet.js';
import { groupAtOnceFloor, groupedPlaybook, measureFloor, median } from './floor.js';

const SIZES = (process.env.BENCH_SIZES ?? '20x4,60x6')
  .split(',')
  .map((size) => size.split('x').map(Number) as [number, number]);
const RUNS = 3;
const SPINUP_MS = 500;
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;

for (const [index, [hostCount, groupCount]] of SIZES.entries())
  await measure(hostCount, groupCount, 209 + index);

async function measure(hostCount: number, groupCount: number, subnet: number): Promise<void> {
  const fleet = await Fleet.start({ hosts: hostCount, subnet, spinupMs: SPINUP_MS });
  try {
    const perGroup = hostCount / groupCount;
    const playbook = await groupedPlaybook(fleet, groupCount, perGroup);
    const executor = new SshExecutor({
      knownHostsPath: fleet.knownHostsPath,
      privateKeyPath: fleet.clientKeyPath,
    });
    const floor = await measureFloor(fleet, executor, groupCount, 'span');
    const together = await groupAtOnceFloor(fleet, executor, perGroup, groupCount, 'hand', RUNS);
    const spans: number[] = [];
    const rows: Record<string, number[]> = {};
    const add = (name: string, value: number) => (rows[name] ??= []).push(value);
    for (let run = 0; run < RUNS; run++) {
      const plan = planRollout(
        playbook,
        {
          kind: 'deploy',
          service: 'fleet',
          version: `v${run + 2}`,
          previousVersion: `v${run + 1}`,
          environment: 'test',
        },
        Date.now(),
      );
      if (!plan.ok) throw new Error(plan.error.message);
      if ((await preflight(plan.plan, executor)).length > 0) throw new Error('preflight failed');
      const seen: Array<{ at: number; update: RolloutUpdate }> = [];
      const network = new NetworkHealthProbe(executor);
      const checks: Record<string, Array<{ at: number; end: number; healthy: boolean }>> = {};
      const started = now();
      const outcome = await RolloutRun.start(plan.plan, `span-${run}`, {
        executor,
        controller: new ChildProcessShell(),
        health: {
          check: async (probe, target, signal) => {
            const at = now();
            const result = await network.check(probe, target, signal);
            (checks[target.name] ??= []).push({ at, end: now(), healthy: result.healthy });
            return result;
          },
        },
        clock: systemClock,
        checkpoint: async () => {},
        report: (update) => seen.push({ at: now(), update }),
        gate: async () => ({ continue: true, by: 'bench' }),
      }).run();
      if (outcome.state.status !== 'succeeded')
        throw new Error(`run ${run} ended ${outcome.state.status}`);
      spans.push(now() - started);
      const journal = new Map<string, Array<{ at: number; serving: boolean }>>();
      for (const host of fleet.hosts) {
        const text = await readFile(host.journal, 'utf8');
        journal.set(
          host.name,
          text
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { at: number; serving: boolean })
            .map((entry) => ({ at: entry.at / 1000, serving: entry.serving }))
            .filter((entry) => entry.at >= started),
        );
      }
      const what = (update: RolloutUpdate) =>
        (update.kind === 'event' ? update.event : update.announcement) as {
          type: string;
          host?: string;
          group?: string;
        };
      const when = (type: string, key: string) =>
        seen.find(
          ({ update }) =>
            what(update).type === type && (what(update).host ?? what(update).group) === key,
        )?.at;
      let previousHealthy = started;
      for (const group of plan.plan.groups) {
        const groupStarted = when('group.started', group.name) as number;
        add('previous group healthy → group started', groupStarted - previousHealthy);
        const hosts = group.hosts.map((host) => {
          const entries = journal.get(host.name) ?? [];
          const down = entries.find((entry) => !entry.serving)?.at as number;
          const up = entries.find((entry) => entry.serving && entry.at > down)?.at as number;
          return {
            name: host.name,
            stepStarted: when('step.started', host.name) as number,
            stepDone: when('step.succeeded', host.name) as number,
            down,
            up,
            healthy: when('health.passed', host.name) as number,
          };
        });
        for (const host of hosts) {
          add('group started → step started', host.stepStarted - groupStarted);
          add('step started → host down (command reaching it)', host.down - host.stepStarted);
          add('host down → serving again (its spin-up)', host.up - host.down);
          add('serving again → seen healthy', host.healthy - host.up);
          add('host down → step seen done', host.stepDone - host.down);
          const mine = checks[host.name] ?? [];
          const passed = mine.find((check) => check.healthy);
          const before = mine.filter((check) => !check.healthy).at(-1);
          if (passed && before) {
            add('check: last failed start → passing start', passed.at - before.at);
            add('check: serving → passing check started', passed.at - host.up);
            add('check: passing check duration', passed.end - passed.at);
            add('check: failed check duration', before.end - before.at);
          }
        }
        const healthy = when('group.healthy', group.name) as number;
        add(
          'group: first step → last host down',
          Math.max(...hosts.map((h) => h.down)) - Math.min(...hosts.map((h) => h.stepStarted)),
        );
        add(
          'group: last seen healthy → group.healthy',
          healthy - Math.max(...hosts.map((h) => h.healthy)),
        );
        add('group: started → healthy', healthy - groupStarted);
        previousHealthy = healthy;
      }
    }
    const span = median(spans);
    console.log(
      `\nwhere a rollout's span goes: ${hostCount} hosts / ${groupCount} groups (parallel ${perGroup}), ${SPINUP_MS} ms spin-up, ${RUNS} runs, in this process`,
    );
    console.log(
      `  floor (one host: restart command ${floor.commandMs.toFixed(0)} ms + spin-up ${floor.spinupMs.toFixed(0)} ms, × groups) ${floor.floorMs.toFixed(0)} ms`,
    );
    console.log(
      `  a whole group restarted at once by hand (checked every 2 ms), × groups     ${together.toFixed(0)} ms  ${(together / floor.floorMs).toFixed(2)}× the floor`,
    );
    console.log(
      `  baton's rollout (first step → last host healthy, median)                 ${span.toFixed(0)} ms  ${(span / floor.floorMs).toFixed(2)}× the floor, ${(span / together).toFixed(2)}× by hand`,
    );
    console.log('  per host and group, ms: median · max');
    for (const [name, values] of Object.entries(rows))
      console.log(
        `  ${name.padEnd(52)} ${median(values).toFixed(1).padStart(7)} · ${Math.max(...values)
          .toFixed(1)
          .padStart(7)}`,
      );
    await executor.close();
  } finally {
    await fleet.stop();
  }
}
