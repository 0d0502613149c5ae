// `npm run bench`: how close a rollout comes to the physical floor of a rolling restart.
// Prints figures and ratios; asserts nothing.
import { systemClock } from '../src/adapters/clock/system-clock.js';
import { NetworkHealthProbe } from '../src/adapters/health/network-health-probe.js';
import { SshExecutor } from '../src/adapters/ssh/ssh-executor.js';
import { preflight } from '../src/app/worker/preflight.js';
import type { HostTarget } from '../src/app/ports.js';
import { RolloutRun } from '../src/app/worker/run-rollout.js';
import { planRollout } from '../src/core/rollout/index.js';
import { Fleet } from '../test/fleet/fleet.js';
import { FleetMonitor } from '../test/fleet/monitor.js';
import { ChildProcessShell } from '../src/adapters/controller/child-process-shell.js';
import { fleetTargets, groupAtOnceFloor, groupedPlaybook, measureFloor, median } from './floor.js';

const HOSTS = 20;
const GROUPS = 4;
const PARALLEL = 5;
const SPINUP_MS = 500;
const RUNS = 3;

const fleet = await Fleet.start({ hosts: HOSTS, subnet: 200, spinupMs: SPINUP_MS });
try {
  const perGroup = HOSTS / GROUPS;
  const playbook = await groupedPlaybook(fleet, GROUPS, PARALLEL);
  const executor = new SshExecutor({
    knownHostsPath: fleet.knownHostsPath,
    privateKeyPath: fleet.clientKeyPath,
  });

  // The floor, as defined: one restart command over an open connection, then the time until
  // the first 200, times the number of groups.
  const targets: HostTarget[] = fleetTargets(fleet);
  await Promise.all(targets.map((target) => executor.connect(target)));
  const floor = await measureFloor(fleet, executor, GROUPS, 'floor');
  const floorMs = floor.floorMs;

  // The same floor at the group's real concurrency: a whole group restarted at once by hand.
  const concurrentFloorMs = await groupAtOnceFloor(fleet, executor, perGroup, GROUPS, 'group');

  const walls: number[] = [];
  const withConnect: number[] = [];
  let maxDown = 0;
  for (let run = 0; run < RUNS; run++) {
    const version = `v${run + 2}`;
    const plan = planRollout(
      playbook,
      {
        kind: 'deploy',
        service: 'fleet',
        version,
        previousVersion: `v${run + 1}`,
        environment: 'test',
      },
      Date.now(),
    );
    if (!plan.ok) throw new Error(plan.error.message);
    const fresh = new SshExecutor({
      knownHostsPath: fleet.knownHostsPath,
      privateKeyPath: fleet.clientKeyPath,
    });
    const monitor = new FleetMonitor(fleet.hosts);
    const connectStarted = performance.now();
    if ((await preflight(plan.plan, fresh)).length > 0) throw new Error('preflight failed');
    const started = performance.now();
    const outcome = await RolloutRun.start(plan.plan, `bench-${run}`, {
      executor: fresh,
      controller: new ChildProcessShell(),
      health: new NetworkHealthProbe(fresh),
      clock: systemClock,
      checkpoint: async () => {},
      report: () => {},
      gate: async () => ({ continue: true, by: 'bench' }),
    }).run();
    const finished = performance.now();
    const report = await monitor.stop();
    await fresh.close();
    if (outcome.state.status !== 'succeeded')
      throw new Error(`run ${run} ended ${outcome.state.status}`);
    walls.push(finished - started);
    withConnect.push(finished - connectStarted);
    maxDown = Math.max(maxDown, report.maxDown);
  }
  await executor.close();

  const wall = median(walls);
  const line = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
  console.log(
    `rolling restart: ${HOSTS} hosts, ${GROUPS} groups of ${perGroup}, parallel ${PARALLEL}, ${SPINUP_MS} ms spin-up, median of ${RUNS} runs`,
  );
  line('restart command over an open connection', `${floor.commandMs.toFixed(0)} ms`);
  line('restart to first healthy answer', `${floor.spinupMs.toFixed(0)} ms`);
  line('physical floor (groups × both)', `${floorMs.toFixed(0)} ms`);
  line(
    'baton rollout wall time',
    `${wall.toFixed(0)} ms  (runs: ${walls.map((w) => w.toFixed(0)).join(', ')})`,
  );
  line('  with connecting to every host first', `${median(withConnect).toFixed(0)} ms`);
  line('ratio to the floor (target ≤ 1.10)', `${(wall / floorMs).toFixed(3)}×`);
  line(`floor with ${PARALLEL} restarts at once (by hand)`, `${concurrentFloorMs.toFixed(0)} ms`);
  line('ratio to that floor', `${(wall / concurrentFloorMs).toFixed(3)}×`);
  line('most hosts down at once (monitor)', `${maxDown} (parallel ${PARALLEL})`);
} finally {
  await fleet.stop();
}
