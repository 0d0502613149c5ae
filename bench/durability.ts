// `npm run bench` (second part): how fast a rollout comes back after its worker is killed, and
// how close to their time scheduled rollbacks fire. Prints figures; asserts nothing.
import { Redis } from 'ioredis';
import { RedisAuditLog } from '../src/adapters/store/redis-history.js';
import { RedisKeys } from '../src/adapters/store/redis-keys.js';
import { Fleet } from '../test/fleet/fleet.js';
import { baton } from '../test/support/cli.js';
import { BatonProcess } from '../test/support/processes.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../test/support/redis.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCHEDULES = 5;
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const prefix = testPrefix('bench');
const fleet = await Fleet.start({ hosts: 4, subnet: 202, spinupMs: 300 });
const children: BatonProcess[] = [];
const redis = new Redis(REDIS_URL);
try {
  await fleet.writePlaybook({ groups: [{ hosts: [0, 1] }, { hosts: [2, 3] }] });
  const env = { ...fleet.env(), REDIS_URL, BATON_REDIS_PREFIX: prefix };
  const worker = async () => {
    const child = new BatonProcess(['worker'], env);
    children.push(child);
    await child.waitFor('taking rollouts');
    return child;
  };
  const workers = [await worker(), await worker()];

  const resumes: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const deploy = new BatonProcess(
      [
        'deploy',
        'fleet',
        `v${run + 2}`,
        '--env',
        'test',
        '--previous',
        `v${run + 1}`,
        '--yes',
        '--json',
      ],
      env,
    );
    children.push(deploy);
    await deploy.waitFor('"type":"group.started","group":"g2"');
    const line =
      deploy.output
        .split('\n')
        .find((text) => text.includes('"type":"group.started","group":"g2"')) ?? '';
    const acting = (JSON.parse(line) as { worker: string }).worker;
    const victimIndex = workers.findIndex((child) => acting.endsWith(`:${child.pid}`));
    const victim = workers[victimIndex] as BatonProcess;
    const before = deploy.output.length;
    victim.kill('SIGKILL');
    const killedAt = performance.now();
    let resumedAt: number | undefined;
    while (resumedAt === undefined) {
      const fresh = deploy.output
        .slice(before)
        .split('\n')
        .filter((text) => text.startsWith('{'));
      if (fresh.some((text) => !text.includes(`"worker":"${acting}"`)))
        resumedAt = performance.now();
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    resumes.push(resumedAt - killedAt);
    if ((await deploy.exited()) !== 0)
      throw new Error(`run ${run} did not finish:\n${deploy.output}`);
    workers[victimIndex] = await worker();
  }

  const audit = new RedisAuditLog(redis, new RedisKeys(prefix));
  for (let i = 0; i < SCHEDULES; i++) {
    const scheduled = await baton(
      ['rollback', 'fleet', `v${RUNS}`, '--env', 'test', '--in', '2s'],
      env,
      () => Date.now(),
    );
    if (scheduled.status !== 0) throw new Error(scheduled.stderr);
    for (;;) {
      const fired = (await audit.recent(1000)).filter((entry) => entry.action === 'schedule.fired');
      if (fired.length > i) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Let the rollback finish before the next one: it holds the lock meanwhile.
    while ((await redis.exists(`${prefix}:lock:fleet:test`)) === 1)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const delays = (await audit.recent(1000))
    .filter((entry) => entry.action === 'schedule.fired')
    .map((entry) => entry.at - Number((entry.detail as { due: number }).due));

  const line = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
  console.log(
    `durability: 2 worker processes, ${RUNS} kill -9 runs, ${SCHEDULES} scheduled rollbacks`,
  );
  line(
    'kill -9 to first event of the next worker',
    `${median(resumes).toFixed(0)} ms median (runs: ${resumes.map((ms) => ms.toFixed(0)).join(', ')}; target ≤ 10000)`,
  );
  line(
    'scheduled rollback fired after its time',
    `${median(delays).toFixed(0)} ms median, ${Math.max(...delays).toFixed(0)} ms worst (target ≤ 1000)`,
  );
} finally {
  for (const child of children) {
    child.kill('SIGKILL');
    await child.exited();
  }
  await fleet.stop();
  await dropPrefix(prefix);
  redis.disconnect();
}
