import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { producerOf } from '../../src/app/queue-ports.js';
import { CallTimedOutError } from '../../src/app/retry.js';
import { decideApproval, expireAndFollowUp } from '../../src/app/use-cases/decide-approval.js';
import type { Principal, UseCaseDeps } from '../../src/app/use-cases/deps.js';
import { fireScheduledRollback } from '../../src/app/use-cases/fire-scheduled-rollback.js';
import { requestRollout } from '../../src/app/use-cases/request-rollout.js';
import { scheduleRollback } from '../../src/app/use-cases/schedules.js';
import type { WorkerDeps } from '../../src/app/worker/deps.js';
import {
  giveUpJob,
  processRolloutJob,
  retryStalledRollouts,
} from '../../src/app/worker/process-rollout-job.js';
import { isTerminal } from '../../src/core/rollout/index.js';
import { twoGroups } from '../support/chat-world.js';
import { deployedBefore } from '../support/history.js';
import { InMemoryHosts } from '../support/in-memory-hosts.js';
import { InMemoryOutbox } from '../support/memory/memory-outbox.js';
import { InMemoryQueue } from '../support/memory/memory-queue.js';
import { InMemoryRequestStore } from '../support/memory/memory-request-store.js';
import { InMemoryScheduleStore } from '../support/memory/memory-schedule-store.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from '../support/memory/memory-stores.js';
import { VirtualClock } from '../support/virtual-clock.js';
import { RecordingController } from '../support/recording-controller.js';

type Fault = 'reject' | 'hang';

/**
 * The fault tier: every store and queue call of the use cases and the worker may fail (reject)
 * or never answer (hang) at generated points. Whole rollouts are driven through the use cases
 * and the worker, and what must hold whatever fails is checked at the end.
 *
 * Calls are retried as production retries them (src/app/retry.ts, tested on its own), but at
 * once and on the virtual clock, so every run is the same each time: a hung attempt is one
 * that the attempt timeout gave up on, and whose effect never happened.
 */
const RETRIES = 2;
const ATTEMPTS = 6;

/**
 * A port whose n-th attempt (counted across every port of the world) does what `faults[n]`
 * says, tried again up to RETRIES times.
 */
function faulty<T extends object>(
  port: T,
  faults: (Fault | null)[],
  counter: { calls: number },
): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        for (let attempt = 0; ; attempt++) {
          const fault = faults[counter.calls++] ?? null;
          if (fault === null)
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (attempt === RETRIES)
            throw fault === 'hang'
              ? new CallTimedOutError(String(property), 15_000)
              : new Error('injected: connection lost');
        }
      };
    },
  });
}

function faultWorld(faults: (Fault | null)[]) {
  const clock = new VirtualClock(1_700_000_000_000);
  const hosts = new InMemoryHosts(clock);
  const counter = { calls: 0 };
  const wrap = <T extends object>(port: T): T => faulty(port, faults, counter);
  const history = new InMemoryHistory();
  const raw = {
    locks: new InMemoryLockStore(clock),
    rollouts: new InMemoryRolloutStore(),
    history,
    requests: new InMemoryRequestStore(clock),
    schedules: new InMemoryScheduleStore(),
    outbox: new InMemoryOutbox(clock),
  };
  const queue = new InMemoryQueue(() => {}, ATTEMPTS);
  const queueFacade = producerOf(queue);
  const stores = {
    locks: wrap(raw.locks),
    rollouts: wrap(raw.rollouts),
    history: wrap(history),
    audit: wrap(history),
    requests: wrap(raw.requests),
    schedules: wrap(raw.schedules),
    outbox: wrap(raw.outbox),
    queue: wrap(queueFacade),
  };
  let ids = 0;
  const deps: UseCaseDeps = {
    ...stores,
    playbooks: {
      load: async () => ({ playbooks: new Map([['parser', twoGroups()]]), problems: 0 }),
    },
    directory: { groupsOf: async () => [] },
    clock,
    timeZone: 'UTC',
    newId: () => `id-${++ids}`,
  };
  const worker: WorkerDeps = {
    ...stores,
    worker: 'worker-1',
    executor: hosts,
    controller: new RecordingController(),
    health: hosts,
    clock,
    lockTtlMs: 60_000,
    pollMs: 50,
    active: new Set(),
    warn: () => {},
  };
  const runs = new Map<string, number>();
  queue.work('worker-1', async (job, attempt) => {
    runs.set(job.rollout, (runs.get(job.rollout) ?? 0) + 1);
    // What startRolloutWorker does with a job, on this world's queue.
    try {
      const outcome = await processRolloutJob(job, worker, attempt);
      return outcome.kind === 'suspended' ? 'retry' : 'done';
    } catch (error) {
      if (attempt.attempt < attempt.attempts) throw error;
      await giveUpJob(job, worker, (error as Error).message);
      return 'done';
    }
  });
  return { clock, hosts, raw, queue, deps, runs, worker };
}

type World = ReturnType<typeof faultWorld>;

/** What a person does when baton says "something went wrong": asks again. */
async function persist<T>(work: () => Promise<T>, times = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= times) throw error;
    }
  }
}

/** Lets the rollouts' time pass while jobs run, and any process's housekeeping runs. */
async function settle(world: World, done: () => Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 400; turn++) {
    if (await done()) return;
    world.clock.advance(5000);
    await expireAndFollowUp(world.deps, () => {}).catch(() => undefined);
    await retryStalledRollouts(world.worker).catch(() => undefined);
    await world.clock.sleep(50);
  }
}

/** Recorded, and its lock gone: released, or (when even that failed) lapsed. */
async function ended(world: World, rollout: string, environment = 'production'): Promise<boolean> {
  const holder = await world.raw.locks.get({ service: 'parser', environment });
  return (
    world.raw.history.entries.some((entry) => entry.rollout === rollout) &&
    holder?.rollout !== rollout
  );
}

/** The rollout ended in a stated final state, was recorded once, and let go of its target. */
async function endedProperly(world: World, rollout: string) {
  const state = await world.raw.rollouts.load(rollout);
  expect(state !== undefined && isTerminal(state.status)).toBe(true);
  const recorded = world.raw.history.entries.filter((entry) => entry.rollout === rollout);
  expect(recorded).toHaveLength(1);
  expect(['succeeded', 'gave_up']).toContain(recorded[0]?.result);
  expect(
    (await world.raw.locks.get({ service: 'parser', environment: 'production' }))?.rollout,
  ).not.toBe(rollout);
  return state;
}

/** Never two groups down at once; no host restarted more often than the rollout was run. */
function hostsBehaved(world: World, rollout: string, groups: Record<string, string>) {
  const restarts = world.hosts.restarts;
  for (const one of restarts)
    for (const other of restarts)
      if (groups[one.host] !== groups[other.host])
        expect(one.at < other.readyAt && other.at < one.readyAt).toBe(false);
  const runs = world.runs.get(rollout) ?? 0;
  for (const host of Object.keys(groups))
    expect(restarts.filter((restart) => restart.host === host).length).toBeLessThanOrEqual(runs);
}

/**
 * Single failures here and there, and outages: runs of calls that all fail (a store down for a
 * while), long enough to outlast the retries and suspend a run, or the run after it.
 */
const faultsArbitrary = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 12, arbitrary: fc.constant(null) },
        { weight: 2, arbitrary: fc.constant<Fault>('reject') },
        { weight: 1, arbitrary: fc.constant<Fault>('hang') },
      ),
      { maxLength: 300, size: 'max' },
    ),
    fc.array(
      fc.record({
        at: fc.nat({ max: 600 }),
        length: fc.integer({ min: 1, max: 40 }),
        kind: fc.constantFrom<Fault>('reject', 'hang'),
      }),
      { maxLength: 4, size: 'max' },
    ),
  )
  .map(([scattered, outages]) => {
    const faults = [...scattered];
    for (const outage of outages)
      for (let call = outage.at; call < outage.at + outage.length; call++)
        faults[call] = outage.kind;
    return faults;
  });

const alice: Principal = { id: 'UALICE', kind: 'person' };
const bob: Principal = { id: 'UBOB', kind: 'person' };
const GROUPS = { a: 'g1', b: 'g2' };

const unhandled: unknown[] = [];
const collect = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => void process.on('unhandledRejection', collect));
afterEach(() => void process.off('unhandledRejection', collect));

describe('whatever the stores do', () => {
  it('an approved deploy is launched, ends in a stated final state, and keeps every host invariant', async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (faults) => {
        const world = faultWorld(faults);
        const asked = await persist(() =>
          requestRollout(
            world.deps,
            alice,
            { kind: 'deploy', service: 'parser', version: 'v2' },
            { channel: 'C1' },
          ),
        );
        expect(asked).toMatchObject({ ok: true, code: 'awaiting_approval' });
        if (!asked.ok || asked.code !== 'awaiting_approval') return;
        const decided = await persist(() =>
          decideApproval(world.deps, bob, { approval: asked.approval, action: 'approve' }),
        );
        // Approved, by this click or (when its answer was lost) by the one before it.
        if (!decided.ok) expect(['decided_meanwhile', 'already_decided']).toContain(decided.code);
        const launchOf = async () => (await world.raw.requests.approval(asked.approval))?.launch;
        await settle(world, async () => {
          const launch = await launchOf();
          return launch?.result !== undefined && (await ended(world, launch.rollout));
        });
        const launch = await launchOf();
        expect(launch?.result).toEqual({ started: true });
        const state = await endedProperly(world, launch?.rollout ?? '');
        hostsBehaved(world, launch?.rollout ?? '', GROUPS);
        if (state?.status === 'succeeded')
          for (const host of ['a', 'b'])
            expect(
              world.hosts.restarts.filter((restart) => restart.host === host).at(-1)?.version,
            ).toBe('v2');
        await world.queue.close();
        expect(unhandled).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('a scheduled rollback is fired once, and its rollout ends in a stated final state', async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (faults) => {
        const world = faultWorld(faults);
        await deployedBefore(
          world.raw.history,
          { service: 'parser', environment: 'staging' },
          'v1',
          'v2',
        );
        const scheduled = await persist(() =>
          scheduleRollback(world.deps, alice, {
            service: 'parser',
            environment: 'staging',
            runAt: world.clock.now() + 60_000,
          }),
        );
        // A retry after a lost answer finds its own first attempt already there.
        const open = await world.raw.schedules.open();
        expect(open).toHaveLength(1);
        if (!scheduled.ok) expect(scheduled.code).toBe('already_scheduled');
        const due = open[0];
        if (due === undefined) return;
        // The queue fires it, and fires it again as long as firing fails.
        await persist(() => fireScheduledRollback(world.deps, due, 'worker-1'));
        const fired = await world.raw.schedules.get(due.id);
        expect(fired?.status).toBe('fired');
        const rollout = fired?.firing?.rollout ?? '';
        await settle(world, () => ended(world, rollout, 'staging'));
        expect(world.queue.jobs.filter((job) => job.rollout === rollout)).toHaveLength(1);
        const state = await world.raw.rollouts.load(rollout);
        expect(state !== undefined && isTerminal(state.status)).toBe(true);
        hostsBehaved(world, rollout, GROUPS);
        await world.queue.close();
        expect(unhandled).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
