import { describe, expect, it } from 'vitest';
import type { WorkerDeps } from '../../src/app/worker/deps.js';
import { processRolloutJob } from '../../src/app/worker/process-rollout-job.js';
import { ExecutorClosedError } from '../../src/app/ports.js';
import { InMemoryHosts } from '../support/in-memory-hosts.js';
import { InMemoryOutbox } from '../support/memory/memory-outbox.js';
import { InMemoryQueue } from '../support/memory/memory-queue.js';
import { InMemoryScheduleStore } from '../support/memory/memory-schedule-store.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from '../support/memory/memory-stores.js';
import { progressMessage } from '../../src/core/report/progress-message.js';
import type { RolloutState } from '../../src/core/rollout/index.js';
import { planFor, playbookFrom } from '../support/playbooks.js';
import { VirtualClock } from '../support/virtual-clock.js';
import { RecordingController } from '../support/recording-controller.js';

const playbook = playbookFrom({
  service: 'svc',
  steps: [{ name: 'restart', run: 'restart {{version}}' }],
  health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
  environments: {
    test: {
      groups: [
        { name: 'g1', hosts: ['a'] },
        { name: 'g2', hosts: ['b'] },
      ],
    },
  },
});
const target = { service: 'svc', environment: 'test' };
const job = { rollout: 'r1', plan: planFor(playbook), requestedBy: 'U1', lockToken: 'token-1' };
/** A deploy that schedules its own rollback unless someone keeps it. */
const deadMan = { ...job, plan: { ...job.plan, previousVersion: 'v1' }, rollbackAfterMs: 60_000 };
const firstAttempt = { attempt: 1, attempts: 3 };
const lastAttempt = { attempt: 3, attempts: 3 };

function setup() {
  const clock = new VirtualClock(1_000_000);
  const hosts = new InMemoryHosts(clock);
  const history = new InMemoryHistory();
  const schedules = new InMemoryScheduleStore();
  const warnings: string[] = [];
  const deps: WorkerDeps = {
    worker: 'test:1',
    executor: hosts,
    controller: new RecordingController(),
    health: hosts,
    clock,
    locks: new InMemoryLockStore(clock),
    rollouts: new InMemoryRolloutStore(),
    history,
    audit: history,
    schedules,
    queue: new InMemoryQueue(() => {}),
    outbox: new InMemoryOutbox(clock),
    lockTtlMs: 150,
    pollMs: 10,
    active: new Set(),
    warn: (message) => warnings.push(message),
  };
  return { hosts, history, warnings, deps, schedules, clock };
}

const failing = (what: string) => async () => {
  throw new Error(what);
};

describe('processRolloutJob and max_unreachable', () => {
  const budgeted = playbookFrom({
    service: 'svc',
    steps: [{ name: 'restart', run: 'restart {{version}}' }],
    health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
    environments: {
      test: {
        max_unreachable: 1,
        groups: [
          { name: 'g1', hosts: ['a'] },
          { name: 'g2', hosts: ['b', 'c'] },
        ],
      },
    },
  });
  const budgetJob = { ...job, plan: planFor(budgeted) };

  it('leaves an unreachable host out within the budget, and names it in the audit and the state', async () => {
    const { deps, hosts, history } = setup();
    hosts.refusing.set('b', 'unreachable');
    expect(await processRolloutJob(budgetJob, deps)).toEqual({ kind: 'finished' });
    expect(hosts.log).toEqual(['a: restart v2', 'c: restart v2']);
    const state = await deps.rollouts.load('r1');
    expect(state?.status).toBe('succeeded');
    expect(state?.plan.notUpdated).toEqual([
      { host: 'b', group: 'g2', detail: 'Cannot connect to b: unreachable.' },
    ]);
    expect(
      progressMessage(state as RolloutState, 0)
        .blocks.map((block) => JSON.stringify(block))
        .join('\n'),
    ).toContain('*Not updated* (unreachable, within max_unreachable 1): b (g2)');
    const said = history.audit.map((entry) => [entry.action, entry.detail]);
    expect(said).toContainEqual([
      'rollout.started',
      expect.objectContaining({ rollout: 'r1', notUpdated: ['b'] }),
    ]);
    expect(said).toContainEqual([
      'rollout.finished',
      expect.objectContaining({ result: 'succeeded', notUpdated: ['b'] }),
    ]);
  });

  it('refuses over the budget, and never counts a wrong host key against it', async () => {
    for (const [refusing, summary] of [
      [
        { b: 'unreachable', c: 'timeout' },
        '2 hosts of 3 cannot be connected to, more than max_unreachable 1 allows (1)',
      ],
      [{ b: 'host_key_mismatch' }, undefined],
    ] as const) {
      const { deps, hosts, history } = setup();
      for (const [name, code] of Object.entries(refusing)) hosts.refusing.set(name, code);
      expect(await processRolloutJob(budgetJob, deps)).toEqual({ kind: 'refused' });
      expect(hosts.log).toEqual([]);
      const last = (await deps.rollouts.read('r1', '0', 0)).at(-1)?.update;
      expect(last).toMatchObject({ kind: 'refused', reason: 'cannot_connect' });
      expect(last?.kind === 'refused' ? last.summary : 'none').toBe(summary);
      expect(history.entries[0]?.result).toBe('cannot_connect');
    }
  });
  it('never leaves out a host that hooks run on, however large the budget', async () => {
    const hooked = playbookFrom({
      service: 'svc',
      steps: [{ name: 'restart', run: 'restart {{version}}' }],
      health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
      before_host: [{ name: 'drain', on: 'lb', run: 'drain {{host}}' }],
      environments: {
        test: { max_unreachable: '100%', groups: [{ name: 'g1', hosts: ['a', 'b'] }] },
      },
    });
    const { deps, hosts } = setup();
    hosts.refusing.set('lb', 'unreachable');
    expect(await processRolloutJob({ ...job, plan: planFor(hooked) }, deps)).toEqual({
      kind: 'refused',
    });
    expect(hosts.log).toEqual([]);
    const last = (await deps.rollouts.read('r1', '0', 0)).at(-1)?.update;
    expect(last).toMatchObject({ kind: 'refused', reason: 'cannot_connect' });
  });

  it('leaves the rollout to another attempt when its worker stops during pre-flight: no host left out, nothing refused', async () => {
    const { deps, hosts, history } = setup();
    // The worker stopping closed its executor before pre-flight reached b.
    deps.executor = {
      connect: async (host) => {
        if (host.name === 'b') throw new ExecutorClosedError('b', 'this worker has closed');
        return hosts.connect(host);
      },
      run: (host, command) => hosts.run(host, command),
      close: () => hosts.close(),
    };
    expect(await processRolloutJob(budgetJob, deps, firstAttempt)).toEqual({
      kind: 'suspended',
      reason: 'its worker stopped before it started',
    });
    expect(hosts.log).toEqual([]);
    expect(await deps.rollouts.load('r1')).toBeUndefined();
    expect(await deps.rollouts.read('r1', '0', 0)).toEqual([]);
    expect(history.entries).toEqual([]);
    expect(history.audit.map((entry) => entry.action)).toEqual(['rollout.suspended']);
  });
});

describe('processRolloutJob', () => {
  it('runs the rollout, records it, frees the lock and says it is finished', async () => {
    const { deps, history } = setup();
    expect(await processRolloutJob(job, deps)).toEqual({ kind: 'finished' });
    expect(history.entries[0]).toMatchObject({
      ...target,
      version: 'v2',
      result: 'succeeded',
      by: 'U1',
    });
    expect(await deps.locks.get(target)).toBeUndefined();
    expect((await deps.rollouts.read('r1', '0', 0)).at(-1)?.update).toMatchObject({
      kind: 'finished',
      status: 'succeeded',
    });
  });

  it('never runs one rollout twice at once in one process: a job taken again waits for the run it replaces', async () => {
    const { deps, hosts } = setup();
    hosts.hold = true;
    const first = processRolloutJob(job, deps);
    await hosts.whenStarted(1);
    // The queue hands the same job to this process again (its queue lock lapsed meanwhile).
    const second = processRolloutJob(job, deps);
    hosts.release();
    expect(await first).toMatchObject({ kind: 'suspended' });
    expect(await second).toEqual({ kind: 'finished' });
    // The step in flight finished under the first run and was checkpointed: nothing ran twice.
    expect(hosts.log).toEqual(['a: restart v2', 'b: restart v2']);
  });

  it('stops the rollout when its lock was taken away and someone else holds it now', async () => {
    const { deps, hosts } = setup();
    hosts.hold = true;
    const running = processRolloutJob(job, deps);
    await hosts.whenStarted(1);
    await deps.locks.forceRelease(target);
    await deps.locks.acquire(
      target,
      { token: 'other', owner: 'U2', reason: 'hotfix', since: 0 },
      60_000,
    );
    // The watch loop notices within a lock refresh; the step in flight then finishes.
    while ((await deps.rollouts.load('r1'))?.cancel === undefined) await deps.clock.sleep(10);
    hosts.release();
    expect(await running).toEqual({ kind: 'finished' });
    const state = await deps.rollouts.load('r1');
    expect(state?.cancel?.by).toBe('baton (the lock was taken by U2: hotfix)');
    expect(state?.status).toBe('rolled_back');
    expect(state?.groups.map((group) => group.phase)).toEqual(['rolled_back', 'pending']);
  });

  it('takes a removed lock back when nobody else took it, and goes on', async () => {
    const { deps, hosts } = setup();
    hosts.hold = true;
    const running = processRolloutJob(job, deps);
    await hosts.whenStarted(1);
    await deps.locks.forceRelease(target);
    while ((await deps.locks.get(target))?.token !== 'token-1') await deps.clock.sleep(10);
    hosts.release();
    expect(await running).toEqual({ kind: 'finished' });
    expect((await deps.rollouts.load('r1'))?.status).toBe('succeeded');
  });

  it('refuses to start while another holds the lock, and says who', async () => {
    const { deps } = setup();
    await deps.locks.acquire(
      target,
      { token: 'other', owner: 'U2', reason: 'migration', since: 0 },
      60_000,
    );
    expect(await processRolloutJob(job, deps)).toEqual({ kind: 'refused' });
    expect((await deps.rollouts.read('r1', '0', 0))[0]?.update).toMatchObject({
      kind: 'refused',
      reason: 'locked',
      detail: [expect.stringContaining('locked by U2 since 1970-01-01T00:00:00.000Z: migration')],
    });
  });

  it('run again after its worker died at the very end, adds nothing and takes no lock', async () => {
    const { deps, history, schedules } = setup();
    expect(await processRolloutJob(deadMan, deps)).toEqual({ kind: 'finished' });
    // The next rollout of the target holds the lock when the job comes round again.
    await deps.locks.acquire(
      target,
      { token: 'next', owner: 'U2', reason: 'deploy v3', since: 0 },
      60_000,
    );
    expect(await processRolloutJob(deadMan, deps)).toEqual({ kind: 'finished' });
    expect(history.entries.map((entry) => entry.rollout)).toEqual(['r1']);
    expect(history.audit.filter((entry) => entry.action === 'rollout.finished')).toHaveLength(1);
    expect([...schedules.records.keys()]).toEqual(['keep-r1']);
    expect((await deps.locks.get(target))?.token).toBe('next');
  });

  it('finishes the bookkeeping a dead worker left half done', async () => {
    const { deps, history, schedules } = setup();
    const record = history.record.bind(history);
    history.record = failing('worker died here');
    await expect(processRolloutJob(deadMan, deps)).rejects.toThrow('worker died here');
    history.record = record;
    expect(await processRolloutJob(deadMan, deps)).toEqual({ kind: 'finished' });
    expect(history.entries.map((entry) => entry.result)).toEqual(['succeeded']);
    expect(await deps.locks.get(target)).toBeUndefined();
    expect([...schedules.records.keys()]).toEqual(['keep-r1']);
  });

  it('survives audit entries of its milestones that cannot be stored, and says so', async () => {
    const { deps, warnings, history } = setup();
    const append = history.append.bind(history);
    history.append = async (entry) => {
      if (entry.action === 'group.started') throw new Error('OOM command not allowed');
      return append(entry);
    };
    expect(await processRolloutJob(job, deps)).toEqual({ kind: 'finished' });
    expect((await deps.rollouts.load('r1'))?.status).toBe('succeeded');
    expect(warnings[0]).toBe('rollout r1: could not store an audit entry: OOM command not allowed');
  });

  it('stores the updates of each transition with its checkpoint, for followers', async () => {
    const { deps } = setup();
    const store = deps.rollouts as InMemoryRolloutStore;
    const save = store.save.bind(store);
    const savedWith: number[] = [];
    store.save = async (state, previous, updates = []) => {
      savedWith.push(...updates.map((update) => ('sequence' in update ? update.sequence : -1)));
      return save(state, previous, updates);
    };
    expect(await processRolloutJob(job, deps)).toEqual({ kind: 'finished' });
    const read = (await deps.rollouts.read('r1', '0', 0)).map((entry) => entry.update);
    const events = read.filter((update) => update.kind === 'event');
    expect(events.length).toBeGreaterThan(0);
    // Every event a follower reads came with the checkpoint of its state.
    for (const event of events) expect(savedWith).toContain(event.sequence);
  });
});

describe('processRolloutJob when its store fails', () => {
  it('suspends, with the step in flight finished, when a checkpoint cannot be stored; the next attempt resumes without repeating the healthy group', async () => {
    const { deps, hosts, history } = setup();
    const store = deps.rollouts as InMemoryRolloutStore;
    const save = store.save.bind(store);
    let saves = 0;
    store.save = async (state) => {
      saves += 1;
      // The first group is healthy and stored; storing what the second group's step did fails.
      if (state.groups[1]?.phase !== 'pending' && state.groups[1]?.hosts[0]?.phase !== 'running')
        throw new Error('READONLY You can not write against a read only replica.');
      return save(state);
    };
    const first = await processRolloutJob(job, deps, firstAttempt);
    expect(first).toEqual({
      kind: 'suspended',
      reason: expect.stringContaining('its checkpoint could not be stored: READONLY'),
    });
    expect(saves).toBeGreaterThan(0);
    expect(hosts.log).toEqual(['a: restart v2', 'b: restart v2']);
    expect(history.entries).toEqual([]);
    expect(history.audit[0]).toMatchObject({ action: 'rollout.suspended' });
    store.save = save;
    expect(await processRolloutJob(job, deps, { attempt: 2, attempts: 3 })).toEqual({
      kind: 'finished',
    });
    // Only the step whose result was never stored ran again.
    expect(hosts.log).toEqual(['a: restart v2', 'b: restart v2', 'b: restart v2']);
    expect(history.entries[0]?.result).toBe('succeeded');
  });

  it('stops, starting nothing more, when another run of the rollout has stored a newer checkpoint', async () => {
    const { deps, hosts, history } = setup();
    const store = deps.rollouts as InMemoryRolloutStore;
    const save = store.save.bind(store);
    store.save = async (state, previous) => {
      // Just before the second group's step would start, another run stores its own next step.
      if (previous !== undefined && state.groups[1]?.hosts[0]?.phase === 'running')
        await save({ ...previous, sequence: previous.sequence + 1 });
      return save(state, previous);
    };
    expect(await processRolloutJob(job, deps, firstAttempt)).toEqual({
      kind: 'suspended',
      reason: 'a newer checkpoint of it is stored: another run has taken it over',
    });
    expect(hosts.log).toEqual(['a: restart v2']);
    expect(history.entries).toEqual([]);
  });

  it('on its last attempt, gives up in a stated final state: history, audit, lock and the last update', async () => {
    const { deps, history } = setup();
    const store = deps.rollouts as InMemoryRolloutStore;
    const save = store.save.bind(store);
    let failures = 0;
    store.save = async (state) => {
      // Storing the state after the first step fails; storing the given-up state works.
      if (state.status !== 'gave_up' && state.sequence >= 2 && failures < 1) {
        failures += 1;
        throw new Error('connection lost');
      }
      return save(state);
    };
    expect(await processRolloutJob(job, deps, lastAttempt)).toEqual({ kind: 'finished' });
    const state = await deps.rollouts.load('r1');
    expect(state).toMatchObject({
      status: 'gave_up',
      gaveUp: { reason: expect.stringContaining('after 3 attempts') },
    });
    expect(history.entries[0]).toMatchObject({ rollout: 'r1', result: 'gave_up' });
    expect(await deps.locks.get(target)).toBeUndefined();
    expect(history.audit.map((entry) => entry.action)).toContain('rollout.gave_up');
    expect((await deps.rollouts.read('r1', '0', 0)).at(-1)?.update).toMatchObject({
      kind: 'finished',
      status: 'gave_up',
    });
  });

  it('suspends (not aborts) when the answer at a gate cannot be read', async () => {
    const { deps, hosts } = setup();
    const gated = planFor(
      playbookFrom({
        service: 'svc',
        steps: [{ name: 'restart', run: 'restart {{version}}' }],
        health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
        environments: {
          test: {
            groups: [
              { name: 'g1', hosts: ['a'], gate: 'manual' },
              { name: 'g2', hosts: ['b'] },
            ],
          },
        },
      }),
    );
    const store = deps.rollouts as InMemoryRolloutStore;
    store.gateAnswer = failing('ECONNRESET');
    const outcome = await processRolloutJob({ ...job, plan: gated }, deps, firstAttempt);
    expect(outcome).toEqual({
      kind: 'suspended',
      reason: expect.stringContaining('the answer at gate g1 could not be read: ECONNRESET'),
    });
    const state = await deps.rollouts.load('r1');
    expect(state?.cancel).toBeUndefined();
    expect(state?.groups.map((group) => group.phase)).toEqual(['awaiting_gate', 'pending']);
    expect(hosts.log).toEqual(['a: restart v2']);
  });

  it('suspends, and never throws out of its watch, when cancel requests cannot be read', async () => {
    const { deps, hosts, warnings } = setup();
    hosts.hold = true;
    const running = processRolloutJob(job, deps, firstAttempt);
    await hosts.whenStarted(1);
    const store = deps.rollouts as InMemoryRolloutStore;
    store.cancelRequestedBy = failing('ECONNREFUSED 127.0.0.1:6379');
    while (!warnings.some((line) => line.includes('suspending it'))) await deps.clock.sleep(10);
    hosts.release();
    expect(await running).toEqual({
      kind: 'suspended',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
    expect(hosts.log).toEqual(['a: restart v2']);
  });
});
