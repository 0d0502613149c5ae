import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { processRolloutJob, type WorkerDeps } from '../../src/app/process-rollout-job.js';
import { InMemoryHosts } from '../support/in-memory-hosts.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from '../support/memory/memory-stores.js';
import { planFor, playbookFrom } from '../support/playbooks.js';

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

function setup() {
  const hosts = new InMemoryHosts(systemClock);
  const history = new InMemoryHistory();
  const warnings: string[] = [];
  const deps: WorkerDeps = {
    worker: 'test:1',
    executor: hosts,
    health: hosts,
    clock: systemClock,
    locks: new InMemoryLockStore(systemClock),
    rollouts: new InMemoryRolloutStore(),
    history,
    audit: history,
    lockTtlMs: 150,
    pollMs: 10,
    active: new Set(),
    schedule: async () => {},
    warn: (message) => warnings.push(message),
  };
  return { hosts, history, warnings, deps };
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('processRolloutJob', () => {
  it('runs the rollout, records it, frees the lock and says it is finished', async () => {
    const { deps, history } = setup();
    expect(await processRolloutJob(job, deps)).toBe('finished');
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
    await until(async () => hosts.log.length === 1);
    // The queue hands the same job to this process again (its queue lock lapsed meanwhile).
    const second = processRolloutJob(job, deps);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hosts.log).toEqual(['a: restart v2']);
    hosts.release();
    expect(await first).toBe('suspended');
    expect(await second).toBe('finished');
    // The step in flight finished under the first run and was checkpointed: nothing ran twice.
    expect(hosts.log).toEqual(['a: restart v2', 'b: restart v2']);
  });

  it('stops the rollout when its lock was taken away and someone else holds it now', async () => {
    const { deps, hosts } = setup();
    hosts.hold = true;
    const running = processRolloutJob(job, deps);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await deps.locks.forceRelease(target);
    await deps.locks.acquire(
      target,
      { token: 'other', owner: 'U2', reason: 'hotfix', since: 0 },
      60_000,
    );
    await until(async () => (await deps.rollouts.load('r1'))?.cancel !== undefined);
    hosts.release();
    expect(await running).toBe('finished');
    const state = await deps.rollouts.load('r1');
    expect(state?.cancel?.by).toBe('baton (the lock was taken by U2: hotfix)');
    expect(state?.status).toBe('rolled_back');
    expect(state?.groups.map((group) => group.phase)).toEqual(['rolled_back', 'pending']);
  });

  it('takes a removed lock back when nobody else took it, and goes on', async () => {
    const { deps, hosts } = setup();
    hosts.hold = true;
    const running = processRolloutJob(job, deps);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await deps.locks.forceRelease(target);
    await until(async () => (await deps.locks.get(target))?.token === 'token-1');
    hosts.release();
    expect(await running).toBe('finished');
    expect((await deps.rollouts.load('r1'))?.status).toBe('succeeded');
  });

  it('refuses to start while another holds the lock, and says who', async () => {
    const { deps } = setup();
    await deps.locks.acquire(
      target,
      { token: 'other', owner: 'U2', reason: 'migration', since: 0 },
      60_000,
    );
    expect(await processRolloutJob(job, deps)).toBe('refused');
    expect((await deps.rollouts.read('r1', '0', 0))[0]?.update).toMatchObject({
      kind: 'refused',
      reason: 'locked',
      detail: [expect.stringContaining('locked by U2 since 1970-01-01T00:00:00.000Z: migration')],
    });
  });

  it('run again after its worker died at the very end, adds nothing and takes no lock', async () => {
    const { deps, history } = setup();
    const scheduled: string[] = [];
    deps.schedule = async (rollback) => void scheduled.push(rollback.id);
    expect(await processRolloutJob(deadMan, deps)).toBe('finished');
    // The next rollout of the target holds the lock when the job comes round again.
    await deps.locks.acquire(
      target,
      { token: 'next', owner: 'U2', reason: 'deploy v3', since: 0 },
      60_000,
    );
    expect(await processRolloutJob(deadMan, deps)).toBe('finished');
    expect(history.entries.map((entry) => entry.rollout)).toEqual(['r1']);
    expect(history.audit.filter((entry) => entry.action === 'rollout.finished')).toHaveLength(1);
    expect(scheduled).toEqual(['keep-r1']);
    expect((await deps.locks.get(target))?.token).toBe('next');
  });

  it('finishes the bookkeeping a dead worker left half done', async () => {
    const { deps, history } = setup();
    const scheduled: string[] = [];
    deps.schedule = async (rollback) => void scheduled.push(rollback.id);
    const record = history.record.bind(history);
    history.record = async () => {
      throw new Error('worker died here');
    };
    await expect(processRolloutJob(deadMan, deps)).rejects.toThrow('worker died here');
    history.record = record;
    expect(await processRolloutJob(deadMan, deps)).toBe('finished');
    expect(history.entries.map((entry) => entry.result)).toEqual(['succeeded']);
    expect(await deps.locks.get(target)).toBeUndefined();
    expect(new Set(scheduled)).toEqual(new Set(['keep-r1']));
  });

  it('survives progress updates that cannot be stored, and says so', async () => {
    const { deps, warnings } = setup();
    const store = deps.rollouts as InMemoryRolloutStore;
    const append = store.append.bind(store);
    store.append = async (id, update) => {
      if (update.kind === 'event') throw new Error('OOM command not allowed');
      return append(id, update);
    };
    expect(await processRolloutJob(job, deps)).toBe('finished');
    expect((await deps.rollouts.load('r1'))?.status).toBe('succeeded');
    expect(warnings[0]).toBe('rollout r1: could not store an update: OOM command not allowed');
  });
});
