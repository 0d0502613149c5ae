import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { RolloutRun, type RolloutUpdate } from '../../src/app/worker/run-rollout.js';
import { ExecutorClosedError } from '../../src/app/ports.js';
import type { RolloutState } from '../../src/core/rollout/index.js';
import { InMemoryHosts } from '../support/in-memory-hosts.js';
import { planFor, playbookFrom } from '../support/playbooks.js';
import { RecordingController } from '../support/recording-controller.js';
import { VirtualClock } from '../support/virtual-clock.js';

const playbook = playbookFrom({
  service: 'svc',
  steps: [{ name: 'restart', run: 'restart {{version}}' }],
  health: {
    http: { url: 'http://{{host}}/health', body_contains: '{{version}}' },
    interval: '100ms',
    timeout: '2s',
  },
  environments: {
    test: {
      groups: [
        { name: 'g1', hosts: ['a'], gate: 'manual' },
        { name: 'g2', hosts: ['b', 'c'], parallel: 2 },
      ],
    },
  },
});

function harness(gate: 'continue' | 'abort' = 'continue') {
  const hosts = new InMemoryHosts(systemClock);
  const checkpoints: RolloutState[] = [];
  const updates: RolloutUpdate[] = [];
  const order: string[] = [];
  const run = RolloutRun.start(planFor(playbook), 'r1', {
    executor: hosts,
    controller: new RecordingController(),
    health: hosts,
    clock: systemClock,
    checkpoint: async (state) => {
      checkpoints.push(state);
      order.push(`checkpoint ${state.sequence}`);
    },
    report: (update) => updates.push(update),
    gate: async (group) => {
      order.push(`gate ${group}`);
      return gate === 'continue' ? { continue: true, by: 'U1' } : { continue: false, by: 'U1' };
    },
  });
  return { run, hosts, checkpoints, updates, order };
}

describe('RolloutRun', () => {
  it('checkpoints every state before starting the work it asks for', async () => {
    const { run, hosts, checkpoints } = harness();
    const realRun = hosts.run.bind(hosts);
    const seenAtStart: string[] = [];
    hosts.run = async (target, command) => {
      // The last checkpoint must already show this host running.
      const last = checkpoints.at(-1);
      const host = last?.groups
        .flatMap((group) => group.hosts)
        .find((candidate) => candidate.name === target.name);
      seenAtStart.push(`${target.name}:${host?.phase}`);
      return realRun(target, command);
    };
    const outcome = await run.run();
    expect(outcome.state.status).toBe('succeeded');
    expect(seenAtStart).toEqual(['a:running', 'b:running', 'c:running']);
    const sequences = checkpoints.map((state) => state.sequence);
    expect(sequences[0]).toBe(0);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(sequences.at(-1)).toBe(outcome.state.sequence);
  });

  it('reports every transition once, in order, and stores the events that arrive together at once', async () => {
    const { run, checkpoints, updates } = harness();
    const outcome = await run.run();
    const events = updates.filter((update) => update.kind === 'event');
    // Each event is told with the state it led to: one transition each, none left out.
    expect(events.map((update) => update.state.sequence)).toEqual(
      events.map((_, index) => index + 1),
    );
    expect(events.at(-1)?.state).toEqual(outcome.state);
    // g2's two hosts start in the same turn: no checkpoint stores the first start alone.
    const started = events.filter((update) => update.event.type === 'step.started');
    const b = started[1]?.state.sequence;
    expect(b).toBeDefined();
    expect(checkpoints.map((state) => state.sequence)).not.toContain(b);
    expect(checkpoints.length).toBeLessThan(events.length + 1);
  });

  it('after a checkpoint whose answer was lost, writes the next one whole rather than as a change from the last one it knows', async () => {
    const hosts = new InMemoryHosts(systemClock);
    let releaseC = () => {};
    const cHeld = new Promise<void>((resolve) => (releaseC = resolve));
    const calls: { sequence: number; previous: number | undefined }[] = [];
    let failed = false;
    const run = RolloutRun.start(planFor(playbook), 'r1', {
      executor: {
        connect: (target) => hosts.connect(target),
        close: () => hosts.close(),
        run: async (target, command) => {
          if (target.name === 'c') await cHeld;
          return hosts.run(target, command);
        },
      },
      controller: new RecordingController(),
      health: hosts,
      clock: systemClock,
      checkpoint: async (state, previous, updates) => {
        calls.push({ sequence: state.sequence, previous: previous?.sequence });
        const bDone = updates.some(
          (update) =>
            update.kind === 'event' &&
            update.event.type === 'step.succeeded' &&
            update.event.host === 'b',
        );
        if (bDone && !failed) {
          // This write may have landed; its answer never came. c is still restarting.
          failed = true;
          setImmediate(releaseC);
          throw new Error('the connection dropped');
        }
      },
      report: () => {},
      gate: async () => ({ continue: true, by: 'U1' }),
    });
    const outcome = await run.run();
    expect(failed).toBe(true);
    expect(outcome.suspended).toBe(true);
    const lost = calls.findIndex((_, at) => at > 0 && calls[at + 1]?.previous === undefined);
    // Every write before the lost one, and none after it, is a change from the one before.
    expect(
      calls.slice(1, lost + 1).every((call, at) => call.previous === calls[at]?.sequence),
    ).toBe(true);
    // c's step, in flight, is still stored when it ends: whole, as the store may hold either state.
    expect(calls[lost + 1]).toBeDefined();
    expect(calls[lost + 1]?.previous).toBeUndefined();
  });

  it('passes a manual gate only when the gate says so', async () => {
    const { run, order } = harness();
    await run.run();
    expect(order.filter((entry) => entry.startsWith('gate'))).toEqual(['gate g1']);
  });

  it('aborting at the gate rolls the canary back', async () => {
    const { run, hosts } = harness('abort');
    const outcome = await run.run();
    expect(outcome.state.status).toBe('rolled_back');
    expect(hosts.log).toEqual(['a: restart v2', 'a: restart v1']);
  });

  it('a cancel stops after the steps in flight and applies the policy', async () => {
    const { run, hosts, updates } = harness();
    hosts.hold = true;
    const finished = run.run();
    await hosts.whenStarted(1);
    run.cancel('U9');
    hosts.release();
    const outcome = await finished;
    expect(outcome.state.status).toBe('rolled_back');
    expect(outcome.state.cancel?.by).toBe('U9');
    expect(hosts.log).toEqual(['a: restart v2', 'a: restart v1']);
    expect(
      updates.some(
        (update) => update.kind === 'announcement' && update.announcement.type === 'cancel.noted',
      ),
    ).toBe(true);
  });

  it('a failing step in a wide group lets the other host finish, then rolls both back', async () => {
    const { run, hosts } = harness();
    hosts.failing.add('b: restart v2');
    const outcome = await run.run();
    expect(outcome.state.status).toBe('rolled_back');
    expect(outcome.state.groups.map((group) => group.phase)).toEqual(['healthy', 'rolled_back']);
    expect(hosts.log.slice(1).sort()).toEqual([
      'b: restart v1',
      'b: restart v2',
      'c: restart v1',
      'c: restart v2',
    ]);
  });

  it('runs the canary verify on its hosts, and a failed verify rolls the canary back', async () => {
    const verified = playbookFrom({
      service: 'svc',
      steps: [{ name: 'restart', run: 'restart {{version}}' }],
      health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
      environments: {
        test: {
          groups: [
            { name: 'canary', hosts: ['a'], verify: { run: 'check {{version}}' } },
            { name: 'rest', hosts: ['b'] },
          ],
        },
      },
    });
    const hosts = new InMemoryHosts(systemClock);
    hosts.failing.add('a: check v2');
    const outcome = await RolloutRun.start(planFor(verified), 'r2', {
      executor: hosts,
      controller: new RecordingController(),
      health: hosts,
      clock: systemClock,
      checkpoint: async () => {},
      report: () => {},
      gate: async () => ({ continue: true, by: 'U1' }),
    }).run();
    expect(hosts.log).toEqual(['a: restart v2', 'a: check v2', 'a: restart v1']);
    expect(outcome.state).toMatchObject({
      status: 'rolled_back',
      failure: { reason: 'verify_failed', detail: 'verify failed: a: exit 1 (nope)' },
    });
  });

  it('suspends, failing no host, when its executor is closed under it (its process stopping)', async () => {
    const { run, hosts, updates } = harness();
    const realRun = hosts.run.bind(hosts);
    // Closed before g2's hosts were reached: nothing is known of them.
    hosts.run = async (target, command) => {
      if (target.name !== 'a') throw new ExecutorClosedError(target.name, 'closed');
      return realRun(target, command);
    };
    const outcome = await run.run();
    expect(outcome.suspended).toBe(true);
    expect(outcome.state.status).toBe('running');
    const types = updates.flatMap((update) => (update.kind === 'event' ? [update.event.type] : []));
    expect(types).not.toContain('step.failed');
    expect(types).not.toContain('cancel.requested');
    expect(hosts.log).toEqual(['a: restart v2']);
  });
});

describe('RolloutRun health checks', () => {
  /** Two groups of one host each that come up 310 ms after their restart, on a clock that moves only when slept on. */
  async function lags(health: Record<string, unknown>, ssh: Record<string, unknown> = {}) {
    const clock = new VirtualClock();
    const hosts = new InMemoryHosts(clock);
    hosts.spinupMs = 310;
    const updates: RolloutUpdate[] = [];
    const plan = planFor(
      playbookFrom({
        service: 'svc',
        steps: [{ name: 'restart', run: 'restart {{version}}' }],
        health: { ...health, interval: '100ms', timeout: '2s' },
        ssh,
        environments: {
          test: {
            groups: [
              { name: 'g1', hosts: ['a'] },
              { name: 'g2', hosts: ['b'] },
            ],
          },
        },
      }),
    );
    const outcome = await RolloutRun.start(plan, 'r1', {
      executor: hosts,
      controller: new RecordingController(),
      health: hosts,
      clock,
      checkpoint: async () => {},
      report: (update) => updates.push(update),
      gate: async () => ({ continue: true, by: 'U1' }),
    }).run();
    expect(outcome.state.status).toBe('succeeded');
    const passedAt = (host: string) => {
      for (const update of updates)
        if (update.kind === 'event' && update.event.type === 'health.passed')
          if (update.event.host === host) return update.event.at;
      return undefined;
    };
    return ['a', 'b'].map((host) => {
      const restart = hosts.restarts.find((candidate) => candidate.host === host);
      return (passedAt(host) as number) - (restart?.readyAt as number);
    });
  }

  it('checks a host closely when the hosts before it came up, for http and tcp checks', async () => {
    for (const health of [{ http: { url: 'http://{{host}}/health' } }, { tcp: { port: 80 } }]) {
      const [a, b] = await lags(health);
      expect(a).toBe(15);
      expect(b).toBeLessThanOrEqual(10);
    }
  });

  it('keeps the usual pace for command checks, which each cost the host a command', async () => {
    const [a, b] = await lags({ command: { run: 'true' } });
    expect(a).toBe(15);
    expect(b).toBe(15);
  });

  it('keeps the usual pace for hosts behind jump hosts, whose checks each open a channel through them', async () => {
    const [a, b] = await lags(
      { http: { url: 'http://{{host}}/health' } },
      { jump: 'ops@bastion.example.com' },
    );
    expect(a).toBe(15);
    expect(b).toBe(15);
  });
});
