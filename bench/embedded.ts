// `npm run bench` (fourth part): the embedded backend (no REDIS_URL). How long it takes to open
// (the first time, when it creates the database: from the build's template, as an installed baton
// does, and by initdb, as without one; and after), the memory of a process holding
// it, and how quickly its queue hands out jobs and fires due rollbacks, next to Redis doing the
// same. Prints figures; asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RolloutJob, ScheduledRollback } from '../src/app/jobs.js';
import { openEmbeddedBackend, openRedisBackend, type Backend } from '../src/main.js';
import { fleetPlaybook, planFor } from '../test/support/playbooks.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../test/support/redis.js';

const REOPENS = 3;
const JOBS = 20;
const SCHEDULES = 5;
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const round = (value: number) => Math.round(value);

const opener = fileURLToPath(new URL('./embedded-open.ts', import.meta.url));
const templateMaker = fileURLToPath(new URL('../scripts/embedded-db-template.ts', import.meta.url));
function open(dir: string, template = ''): { openMs: number; rssMb: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', opener, dir, template], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { openMs: number; rssMb: number };
}

/** Median time from add() to the job starting, and from a rollback's time to its firing. */
async function queueTimes(backend: Backend): Promise<{ pickupMs: number; lateMs: number }> {
  const started = new Map<string, number>();
  const fired = new Map<string, number>();
  const jobs = backend.work.work('bench', async (job: RolloutJob) => {
    started.set(job.rollout, performance.now());
    return 'done';
  });
  const schedules = backend.work.workSchedules('bench', async (rollback: ScheduledRollback) => {
    fired.set(rollback.id, Date.now() - rollback.runAt);
  });
  await Promise.all([jobs.waitUntilReady(), schedules.waitUntilReady()]);
  const plan = planFor(fleetPlaybook({ groups: [{ hosts: 1 }] }));
  const pickups: number[] = [];
  for (let index = 0; index < JOBS; index++) {
    const rollout = `bench-${Date.now()}-${index}`;
    const added = performance.now();
    await backend.queue.add({ rollout, plan, requestedBy: 'bench', lockToken: rollout });
    while (!started.has(rollout)) await new Promise((resolve) => setTimeout(resolve, 1));
    pickups.push((started.get(rollout) ?? 0) - added);
  }
  const now = Date.now();
  for (let index = 0; index < SCHEDULES; index++) {
    await backend.queue.schedule(
      {
        id: `bench-${now}-${index}`,
        service: 'svc',
        environment: 'test',
        runAt: now + 1000 + index * 300,
        requestedBy: 'bench',
        reason: 'scheduled',
      },
      now,
    );
  }
  while (fired.size < SCHEDULES) await new Promise((resolve) => setTimeout(resolve, 20));
  await jobs.close();
  await schedules.close();
  return { pickupMs: median(pickups), lateMs: median([...fired.values()]) };
}

const dir = await mkdtemp(join(tmpdir(), 'baton-bench-embedded-'));
const prefix = testPrefix('bench-embedded');
try {
  execFileSync(process.execPath, ['--import', 'tsx', templateMaker, join(dir, 'template')]);
  const fromTemplate = Array.from({ length: REOPENS }, (_, index) =>
    open(join(dir, `new-${index}`), join(dir, 'template', 'embedded-db-template.tar.gz')),
  );
  const first = open(join(dir, 'db'), join(dir, 'no-template.tar.gz'));
  const again = Array.from({ length: REOPENS }, () => open(join(dir, 'db')));
  console.log(
    `embedded backend: first open from the template ${round(median(fromTemplate.map((run) => run.openMs)))} ms median, ` +
      `${round(median(fromTemplate.map((run) => run.rssMb)))} MB resident; ` +
      `first open by initdb ${round(first.openMs)} ms, ${round(first.rssMb)} MB resident; ` +
      `later opens ${round(median(again.map((run) => run.openMs)))} ms median, ${round(median(again.map((run) => run.rssMb)))} MB resident`,
  );
  const embedded = await openEmbeddedBackend(join(dir, 'db'), { command: 'bench' });
  const onEmbedded = await queueTimes(embedded);
  await embedded.close();
  const redis = openRedisBackend({ url: REDIS_URL, prefix, trouble: () => {} });
  const onRedis = await queueTimes(redis);
  await redis.close();
  console.log(
    `queue, ${JOBS} jobs one after another: added → started ${onEmbedded.pickupMs.toFixed(1)} ms median embedded, ` +
      `${onRedis.pickupMs.toFixed(1)} ms on Redis; ${SCHEDULES} scheduled rollbacks fire ${round(onEmbedded.lateMs)} ms ` +
      `after their time median embedded, ${round(onRedis.lateMs)} ms on Redis`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await dropPrefix(prefix);
}
