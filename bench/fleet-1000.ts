// `npm run bench` (fifth part): a large fleet through the real worker path, on Redis and on the
// embedded backend. The hosts are simulated in this process (every command exits 0 at once, every
// probe passes), so what is measured is baton itself: the process's CPU for the whole rollout
// (worker, chat view and, embedded, the database), the bytes its checkpoints write, the process's
// resident memory, and the calls to Slack the chat view makes. Prints figures; asserts nothing.
// BENCH_HOSTS, BENCH_GROUPS, BENCH_RUNS and BENCH_BACKENDS (redis,embedded) change what runs;
// BENCH_PG_SETTINGS=a=1,b=2 opens PGlite with those settings; BENCH_CPU_PROFILE=dir writes a V8 CPU profile of each rollout (from the job added to the last
// update settled: opening and closing are not in it) into dir, for `npx tsx bench/profile-top.ts`.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { systemClock } from '../src/adapters/clock/system-clock.js';
import {
  EmbeddedQueueStorage,
  openEmbeddedDatabase,
  SqlHistory,
  SqlLockStore,
  SqlOutbox,
  SqlRequestStore,
  SqlRolloutStore,
  SqlScheduleStore,
} from '../src/adapters/embedded/index.js';
import type { Sql } from '../src/adapters/embedded/embedded-database.js';
import { BullRolloutQueue } from '../src/adapters/queue/bullmq-rollout-queue.js';
import { RedisKeys } from '../src/adapters/store/redis-keys.js';
import { RedisRolloutStore } from '../src/adapters/store/redis-rollout-store.js';
import type { Chat, MessageRef } from '../src/app/chat-ports.js';
import { ChatView } from '../src/app/outbox/chat-view.js';
import type { CommandResult, HealthProbe, RemoteExecutor } from '../src/app/ports.js';
import type { RolloutStore } from '../src/app/store-ports.js';
import type { UseCaseDeps } from '../src/app/use-cases/deps.js';
import { startRolloutWorker } from '../src/app/worker/rollout-worker.js';
import { openRedisBackend, workerDeps, type Stores } from '../src/main.js';
import { planFor, playbookFrom } from '../test/support/playbooks.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../test/support/redis.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 20);
const PARALLEL = 10;
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'redis,embedded').split(',');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;

/** Profiles the main thread while `work` runs, when BENCH_CPU_PROFILE asks for it. */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (PROFILE_DIR === undefined) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(PROFILE_DIR, { recursive: true });
    await writeFile(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** Hosts that answer at once: every command exits 0 on the next turn of the event loop. */
const executor: RemoteExecutor = {
  connect: async () => {},
  run: async (): Promise<CommandResult> => {
    await new Promise((resolve) => setImmediate(resolve));
    return { exitCode: 0, timedOut: false, stdoutTail: '', stderrTail: '', durationMs: 0 };
  },
  close: async () => {},
};
const health: HealthProbe = { check: async () => ({ healthy: true, detail: 'ok' }) };

class CountingChat implements Chat {
  calls = 0;
  async post(): Promise<MessageRef> {
    this.calls += 1;
    return { channel: 'C1', ts: String(this.calls) };
  }
  async update(): Promise<void> {
    this.calls += 1;
  }
  async respond(): Promise<void> {
    this.calls += 1;
  }
}

function plan() {
  const perGroup = Math.ceil(HOSTS / GROUPS);
  let host = 0;
  return planFor(
    playbookFrom({
      service: 'fleet',
      steps: [
        { name: 'install', run: '/opt/fleet/bin/install {{version}}' },
        { name: 'restart', run: 'sudo systemctl restart fleet' },
      ],
      health: {
        http: { url: 'http://{{host}}:8080/health', body_contains: '{{version}}' },
        interval: '100ms',
        successes: 1,
      },
      environments: {
        test: {
          groups: Array.from({ length: GROUPS }, (_, index) => ({
            name: `g${index}`,
            hosts: Array.from(
              { length: Math.min(perGroup, HOSTS - index * perGroup) },
              () => `fleet-${String(++host).padStart(4, '0')}.prod.internal`,
            ),
            parallel: PARALLEL,
          })),
        },
      },
    }),
    { service: 'fleet', environment: 'test' },
    Date.now(),
  );
}

interface Figures {
  wallMs: number;
  cpuMs: number;
  checkpointBytes: number;
  peakRssMb: number;
  /** Resident before the rollout: node, the modules, the connections (and, embedded, the database). */
  startRssMb: number;
  /** Heap in use after a full collection once each rollout is over (when run with --expose-gc). */
  liveHeapMb: number;
  slackCalls: number;
  status: string;
  note?: string;
}

let measured = 0;

/** Runs one rollout through a worker and a chat view on `stores`, and measures it. */
async function measure(
  label: string,
  stores: Stores & Pick<UseCaseDeps, 'queue'>,
  work: BullRolloutQueue,
  rollouts: RolloutStore,
  bytes: () => number,
  starting: () => void = () => {},
): Promise<Figures> {
  const chat = new CountingChat();
  const deps: UseCaseDeps = {
    ...stores,
    rollouts,
    playbooks: { load: async () => ({ playbooks: new Map(), problems: 0 }) },
    directory: { groupsOf: async () => [] },
    clock: systemClock,
    timeZone: 'UTC',
    newId: () => randomUUID(),
  };
  const view = new ChatView(deps, chat, { owner: 'bench', warn: () => {} });
  const worker = startRolloutWorker(
    work,
    { ...workerDeps({ ...stores, rollouts } as never, executor, 'bench', () => {}), health },
    async () => {},
    async () => {},
  );
  await worker.consumer.waitUntilReady();
  view.start();
  const rollout = `bench-${randomUUID()}`;
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const before = bytes();
  starting();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await profiled(`${label}-${++measured}`, async () => {
    await stores.outbox.add({
      key: `rollout:${rollout}`,
      to: { kind: 'channel', channel: 'C1' },
      view: { kind: 'rollout', rollout, requestedBy: 'UBENCH' },
      createdAt: Date.now(),
    });
    await stores.queue.add({ rollout, plan: plan(), requestedBy: 'UBENCH', lockToken: rollout });
    for (;;) {
      const record = await stores.outbox.get(`rollout:${rollout}`);
      if (record?.settled === true) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  const state = await rollouts.load(rollout);
  await view.stop();
  await worker.stop(1000);
  // What the process still holds once the garbage is collected: a worker that keeps anything per
  // rollout would grow here from one rollout to the next.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return {
    liveHeapMb: gc === undefined ? NaN : process.memoryUsage().heapUsed / 2 ** 20,
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    checkpointBytes: bytes() - before,
    peakRssMb: peakRss / 2 ** 20,
    startRssMb: startRss / 2 ** 20,
    slackCalls: chat.calls,
    status: state?.status ?? 'missing',
  };
}

/** Each figure the median of RUNS rollouts on one backend (this machine is shared: CPU varies). */
async function repeated(once: () => Promise<Figures>): Promise<Figures> {
  const runs: Figures[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await once());
  const median = (pick: (figures: Figures) => number) =>
    [...runs.map(pick)].sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? NaN;
  return {
    wallMs: median((figures) => figures.wallMs),
    cpuMs: median((figures) => figures.cpuMs),
    checkpointBytes: median((figures) => figures.checkpointBytes),
    peakRssMb: Math.max(...runs.map((figures) => figures.peakRssMb)),
    startRssMb: runs[0]?.startRssMb ?? NaN,
    slackCalls: median((figures) => figures.slackCalls),
    status: [...new Set(runs.map((figures) => figures.status))].join('/'),
    liveHeapMb: runs.at(-1)?.liveHeapMb ?? NaN,
    note:
      `CPU per run: ${runs.map((figures) => (figures.cpuMs / 1000).toFixed(2)).join(', ')} s; ` +
      `heap in use after each, collected: ${runs.map((figures) => figures.liveHeapMb.toFixed(0)).join(', ')} MB`,
  };
}

// Updates for followers travel with their checkpoint's change; they are not checkpoint bytes.
const isUpdates = (arg: unknown) => typeof arg === 'string' && /^\[?(\]$|\{"kind":)/.test(arg);

const CHECKPOINT_KEY = /:rollout:[^:]+:(state|checkpoint|deltas)$/;

async function onRedis(): Promise<Figures> {
  const prefix = testPrefix('bench-fleet');
  const backend = openRedisBackend({ url: REDIS_URL, prefix, trouble: () => {} });
  // The checkpoint store on a connection of its own, counting the bytes of every command it sends.
  const connection = new Redis(REDIS_URL);
  let sent = 0;
  const send = connection.sendCommand.bind(connection);
  connection.sendCommand = ((command: { args: unknown[] }) => {
    const args = command.args.map((arg) => (Buffer.isBuffer(arg) ? arg : String(arg)));
    if (args.some((arg) => typeof arg === 'string' && CHECKPOINT_KEY.test(arg)))
      for (const arg of args) if (!isUpdates(arg)) sent += Buffer.byteLength(arg);
    return send(command as never);
  }) as typeof connection.sendCommand;
  try {
    return await repeated(() =>
      measure(
        'redis',
        backend,
        backend.work as BullRolloutQueue,
        new RedisRolloutStore(connection, new RedisKeys(prefix)),
        () => sent,
      ),
    );
  } finally {
    await backend.close();
    connection.disconnect();
    await dropPrefix(prefix);
  }
}

async function onEmbedded(): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-bench-fleet-'));
  const settings = process.env.BENCH_PG_SETTINGS?.split(',');
  const opening = performance.now();
  const database = await openEmbeddedDatabase(join(dir, 'db'), 'bench', () => {}, settings);
  const openedMs = performance.now() - opening;
  // Every statement the database runs during the rollout, by what it is about.
  const statements = new Map<string, number>();
  const run = database.pool.run.bind(database.pool);
  database.pool.run = (text, params) => {
    const about = /baton\.checkpoint/.test(text)
      ? 'checkpoints'
      : /baton\.updates/.test(text)
        ? 'updates'
        : /bullmq\./i.test(text)
          ? 'queue'
          : /baton\.outbox/.test(text)
            ? 'outbox'
            : 'other';
    statements.set(about, (statements.get(about) ?? 0) + 1);
    return run(text, params);
  };
  let written = 0;
  const counting: Sql = {
    query: (text, params) => {
      if (/baton\.checkpoint/.test(text))
        for (const param of params ?? [])
          if (!isUpdates(param)) written += Buffer.byteLength(String(param));
      return database.pool.query(text, params);
    },
  };
  const pool = database.pool;
  const queue = new BullRolloutQueue(new EmbeddedQueueStorage(pool));
  const history = new SqlHistory(pool);
  try {
    const figures = await repeated(() =>
      measure(
        'embedded',
        {
          locks: new SqlLockStore(pool, systemClock),
          rollouts: new SqlRolloutStore(pool, systemClock),
          history,
          audit: history,
          requests: new SqlRequestStore(pool, systemClock),
          schedules: new SqlScheduleStore(pool, systemClock),
          outbox: new SqlOutbox(pool, systemClock),
          queue,
        },
        queue,
        new SqlRolloutStore(counting, systemClock),
        () => written,
        () => statements.clear(),
      ),
    );
    const counts = [...statements].map(([about, count]) => `${about} ${count}`).join(', ');
    return {
      ...figures,
      note:
        `${figures.note}; statements run in the last rollout: ${counts}; ` +
        `settings ${settings?.join(' ') ?? 'default'}, first open ${openedMs.toFixed(0)} ms`,
    };
  } finally {
    await queue.close();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const line = (label: string, figures: Figures) =>
  console.log(
    `${label.padEnd(9)} ${figures.status.padEnd(9)} wall ${(figures.wallMs / 1000).toFixed(1)} s · ` +
      `CPU ${(figures.cpuMs / 1000).toFixed(2)} s (target ≤ 2) · ` +
      `checkpoints ${(figures.checkpointBytes / 1e6).toFixed(2)} MB (≤ 10) · ` +
      `peak RSS ${figures.peakRssMb.toFixed(0)} MB (≤ 150, embedded ≤ 200; ${figures.startRssMb.toFixed(0)} before) · ` +
      `Slack calls ${figures.slackCalls} (≤ ${2 * GROUPS + 5})` +
      (figures.note === undefined ? '' : `\n          ${figures.note}`),
  );

console.log(
  `${HOSTS} simulated hosts in ${GROUPS} groups, parallel ${PARALLEL}, worker + chat view in one process; ` +
    `median of ${RUNS} rollouts (peak RSS: the highest; "before": before the first)`,
);
if (BACKENDS.includes('redis')) line('Redis', await onRedis());
if (BACKENDS.includes('embedded')) line('embedded', await onEmbedded());
