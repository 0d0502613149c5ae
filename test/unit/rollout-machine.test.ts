import { describe, expect, it } from 'vitest';
import { applyEvent, parseRolloutState, resumeEffects } from '../../src/core/rollout/index.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

const threeGroups = () =>
  planFor(fleetPlaybook({ groups: [{ hosts: 1 }, { hosts: 2, parallel: 2 }, { hosts: 2 }] }));

describe('a rollout that goes well', () => {
  it('restarts groups strictly in order and finishes when every group is healthy', () => {
    const driver = new RolloutDriver(threeGroups());
    expect(driver.stepEffects()).toEqual(['forward g0/h1 #0']);
    driver.hostSucceeds('g0', 'h1');
    expect(driver.phases()).toEqual({ g0: 'healthy', g1: 'deploying', g2: 'pending' });
    // g1 allows two hosts at once: both start together.
    expect(driver.stepEffects().slice(-2)).toEqual(['forward g1/h2 #0', 'forward g1/h3 #0']);
    driver.hostSucceeds('g1', 'h2');
    expect(driver.phases().g2).toBe('pending');
    driver.hostSucceeds('g1', 'h3');
    // g2 allows one at a time: h5 waits until h4 is healthy, not merely restarted.
    expect(driver.stepEffects().at(-1)).toBe('forward g2/h4 #0');
    driver.send({ type: 'step.succeeded', group: 'g2', host: 'h4', pass: 'forward', step: 0 });
    driver.send({ type: 'step.succeeded', group: 'g2', host: 'h4', pass: 'forward', step: 1 });
    expect(driver.effects.at(-1)).toEqual({
      type: 'probe_health',
      group: 'g2',
      host: 'h4',
      pass: 'forward',
    });
    expect(driver.stepEffects().some((effect) => effect.includes('h5'))).toBe(false);
    driver.send({ type: 'health.passed', group: 'g2', host: 'h4', pass: 'forward' });
    const last = driver.send({
      type: 'step.succeeded',
      group: 'g2',
      host: 'h5',
      pass: 'forward',
      step: 0,
    });
    expect(last.effects[0]).toMatchObject({
      type: 'run_step',
      host: 'h5',
      step: 1,
      name: 's1',
      command: 'step-1 v2',
    });
    driver.send({ type: 'step.succeeded', group: 'g2', host: 'h5', pass: 'forward', step: 1 });
    const done = driver.send({ type: 'health.passed', group: 'g2', host: 'h5', pass: 'forward' });
    expect(done.effects).toEqual([{ type: 'finish', status: 'succeeded' }]);
    expect(done.announcements).toEqual([
      { type: 'group.healthy', group: 'g2' },
      { type: 'rollout.completed' },
    ]);
    expect(driver.state.status).toBe('succeeded');
    expect(driver.state.finishedAt).toBe(driver.state.updatedAt);
  });

  it('verifies the canary, then waits at its gate until someone continues', () => {
    const driver = new RolloutDriver(
      planFor(
        fleetPlaybook({ groups: [{ hosts: 1, verify: true, gate: 'manual' }, { hosts: 1 }] }),
      ),
    );
    driver.hostSucceeds('g0', 'h1');
    expect(driver.effects.at(-1)).toEqual({ type: 'run_verify', group: 'g0' });
    const verified = driver.send({ type: 'verify.passed', group: 'g0' });
    expect(verified.effects).toEqual([{ type: 'await_gate', group: 'g0' }]);
    expect(driver.state.status).toBe('awaiting_gate');
    expect(driver.phases()).toEqual({ g0: 'awaiting_gate', g1: 'pending' });
    const continued = driver.send({ type: 'gate.continued', group: 'g0', by: 'U2' });
    expect(continued.effects).toMatchObject([{ type: 'run_step', group: 'g1', host: 'h2' }]);
    expect(driver.state.status).toBe('running');
  });

  it('does not wait at a gate on the last group: there is nothing after it to hold back', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1, gate: 'manual' }] })),
    );
    driver.hostSucceeds('g0', 'h1');
    expect(driver.state.status).toBe('succeeded');
  });
});

describe('failures follow the playbook policy', () => {
  it('rollback_group: rolls back the failed group only, hosts that are down first, then stops', () => {
    const driver = new RolloutDriver(threeGroups());
    driver.hostSucceeds('g0', 'h1');
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 0 });
    const failed = driver.send({
      type: 'step.failed',
      group: 'g1',
      host: 'h3',
      pass: 'forward',
      step: 0,
      exitCode: 3,
      detail: 'disk full',
    });
    // h2 is still running its second step: wait for it before rolling anything back.
    expect(failed.effects).toEqual([{ type: 'abandon', group: 'g1' }]);
    expect(driver.state.status).toBe('draining');
    expect(driver.state.failure).toMatchObject({
      group: 'g1',
      host: 'h3',
      reason: 'step_failed',
      detail: 's0 failed on h3 (exit 3): disk full',
    });
    const drained = driver.send({
      type: 'step.succeeded',
      group: 'g1',
      host: 'h2',
      pass: 'forward',
      step: 1,
    });
    expect(drained.announcements).toEqual([{ type: 'rollback.started', group: 'g1' }]);
    expect(drained.effects).toMatchObject([
      { type: 'run_step', pass: 'rollback', host: 'h2', step: 0, command: 'step-0 v1' },
      { type: 'run_step', pass: 'rollback', host: 'h3', step: 0, command: 'step-0 v1' },
    ]);
    driver.hostSucceeds('g1', 'h2', 'rollback');
    const end = driver.send({
      type: 'step.succeeded',
      group: 'g1',
      host: 'h3',
      pass: 'rollback',
      step: 0,
    });
    expect(end.effects).toMatchObject([{ type: 'run_step', host: 'h3', step: 1 }]);
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h3', pass: 'rollback', step: 1 });
    const finished = driver.send({
      type: 'health.passed',
      group: 'g1',
      host: 'h3',
      pass: 'rollback',
    });
    expect(finished.effects).toEqual([{ type: 'finish', status: 'rolled_back' }]);
    expect(driver.phases()).toEqual({ g0: 'healthy', g1: 'rolled_back', g2: 'pending' });
    expect(driver.stepEffects().filter((effect) => effect.includes('g2'))).toEqual([]);
  });

  it('rollback_all: rolls back every touched group, newest first, one group at a time', () => {
    const plan = planFor(
      fleetPlaybook({
        groups: [{ hosts: 1 }, { hosts: 1 }, { hosts: 1 }],
        onFailure: 'rollback_all',
        steps: 1,
      }),
    );
    const driver = new RolloutDriver(plan);
    driver.hostSucceeds('g0', 'h1', 'forward', 1);
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 0 });
    driver.send({
      type: 'health.timed_out',
      group: 'g1',
      host: 'h2',
      pass: 'forward',
      detail: 'last: 503',
    });
    expect(driver.state.failure).toMatchObject({
      reason: 'health_timed_out',
      detail: 'h2 did not become healthy in time: last: 503',
    });
    expect(driver.phases()).toEqual({ g0: 'healthy', g1: 'rolling_back', g2: 'pending' });
    driver.hostSucceeds('g1', 'h2', 'rollback', 1);
    expect(driver.phases()).toEqual({ g0: 'rolling_back', g1: 'rolled_back', g2: 'pending' });
    driver.hostSucceeds('g0', 'h1', 'rollback', 1);
    expect(driver.state.status).toBe('rolled_back');
    expect(driver.phases()).toEqual({ g0: 'rolled_back', g1: 'rolled_back', g2: 'pending' });
  });

  it('halt: stops where it failed and rolls nothing back', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 2 }], onFailure: 'halt' })),
    );
    const result = driver.send({
      type: 'step.timed_out',
      group: 'g0',
      host: 'h1',
      pass: 'forward',
      step: 1 - 1,
    });
    expect(result.effects).toEqual([
      { type: 'abandon', group: 'g0' },
      { type: 'finish', status: 'halted' },
    ]);
    expect(result.announcements.at(-1)).toEqual({
      type: 'rollout.halted',
      status: 'halted',
      detail: 'g0 failed (s0 timed out on h1); nothing was rolled back because on_failure is halt.',
    });
    expect(driver.hostPhases('g0')).toEqual(['h1:forward:failed', 'h2:forward:pending']);
  });

  it('halts instead of rolling back when there is no previous version', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1 }] }), { previousVersion: null }),
    );
    driver.stepFails('g0', 'h1', 0, 'forward', '');
    expect(driver.state.status).toBe('halted');
    expect(driver.stepEffects().filter((effect) => effect.startsWith('rollback'))).toEqual([]);
  });

  it('a failed verify fails the canary like an unhealthy host', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1, verify: true }, { hosts: 1 }] })),
    );
    driver.hostSucceeds('g0', 'h1');
    driver.send({ type: 'verify.failed', group: 'g0', detail: 'checksum mismatch' });
    expect(driver.state.failure).toMatchObject({
      reason: 'verify_failed',
      detail: 'verify failed: checksum mismatch',
    });
    expect(driver.phases()).toEqual({ g0: 'rolling_back', g1: 'pending' });
  });

  it('a rollback that fails stops there and says the hosts need a person', () => {
    const driver = new RolloutDriver(planFor(fleetPlaybook({ groups: [{ hosts: 1 }], steps: 1 })));
    driver.stepFails('g0', 'h1', 0, 'forward', 'boom');
    const result = driver.stepFails('g0', 'h1', 0, 'rollback', 'still boom');
    expect(driver.state.status).toBe('rollback_failed');
    expect(result.announcements.at(-1)).toMatchObject({
      type: 'rollout.halted',
      status: 'rollback_failed',
      detail: expect.stringContaining('need a person'),
    });
  });

  it('a second failure in a draining group still lets the group settle', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 2, parallel: 2 }], steps: 1 })),
    );
    driver.stepFails('g0', 'h1', 0, 'forward', 'a');
    driver.stepFails('g0', 'h2', 0, 'forward', 'b');
    expect(driver.state.failure?.host).toBe('h1');
    expect(driver.phases().g0).toBe('rolling_back');
  });
});

describe('cancel', () => {
  it('stops after the current step, then applies the policy; a second cancel is harmless', () => {
    const driver = new RolloutDriver(threeGroups());
    driver.hostSucceeds('g0', 'h1');
    const cancelled = driver.send({ type: 'cancel.requested', by: 'U9' });
    expect(cancelled.announcements).toEqual([
      { type: 'cancel.noted', by: 'U9' },
      { type: 'group.failed', group: 'g1', detail: 'cancelled by U9' },
    ]);
    expect(cancelled.effects).toEqual([{ type: 'abandon', group: 'g1' }]);
    expect(driver.send({ type: 'cancel.requested', by: 'U8' }).effects).toEqual([]);
    expect(driver.state.cancel).toEqual({ by: 'U9', at: expect.any(Number) });
    // In-flight steps finish but start nothing new.
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 0 });
    expect(driver.hostPhases('g1')).toEqual(['h2:forward:stopped', 'h3:forward:running']);
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h3', pass: 'forward', step: 0 });
    expect(driver.phases().g1).toBe('rolling_back');
  });

  it('at a gate, aborts the canary by rolling it back', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1, gate: 'manual' }, { hosts: 1 }] })),
    );
    driver.hostSucceeds('g0', 'h1');
    driver.send({ type: 'cancel.requested', by: 'U1' });
    expect(driver.phases()).toEqual({ g0: 'rolling_back', g1: 'pending' });
    expect(driver.trySend({ type: 'gate.continued', group: 'g0', by: 'U2' })).toMatchObject({
      ok: true,
      effects: [],
    });
  });

  it('during a rollback is noted but does not stop the rollback', () => {
    const driver = new RolloutDriver(planFor(fleetPlaybook({ groups: [{ hosts: 1 }], steps: 1 })));
    driver.stepFails('g0', 'h1', 0, 'forward', 'x');
    expect(driver.send({ type: 'cancel.requested', by: 'U1' }).effects).toEqual([]);
    driver.hostSucceeds('g0', 'h1', 'rollback', 1);
    expect(driver.state.status).toBe('rolled_back');
  });
});

describe('what a transition copies', () => {
  it('shares with the state before it the hosts and groups it did not change', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 3, parallel: 3 }, { hosts: 2 }] })),
    );
    const before = driver.state;
    driver.send({ type: 'step.succeeded', group: 'g0', host: 'h2', pass: 'forward', step: 0 });
    const after = driver.state;
    expect(after.groups[0]).not.toBe(before.groups[0]);
    expect(after.groups[0]?.hosts[1]).not.toBe(before.groups[0]?.hosts[1]);
    expect(after.groups[0]?.hosts[1]?.step).toBe(1);
    expect(before.groups[0]?.hosts[1]?.step).toBe(0);
    expect(after.groups[0]?.hosts[0]).toBe(before.groups[0]?.hosts[0]);
    expect(after.groups[0]?.hosts[2]).toBe(before.groups[0]?.hosts[2]);
    expect(after.groups[1]).toBe(before.groups[1]);
  });
});

describe('illegal and late events', () => {
  it('gives typed errors for events that can never be right', () => {
    const driver = new RolloutDriver(threeGroups());
    expect(
      driver.trySend({
        type: 'step.succeeded',
        group: 'nope',
        host: 'h1',
        pass: 'forward',
        step: 0,
      }),
    ).toMatchObject({ ok: false, error: { code: 'unknown_group' } });
    expect(
      driver.trySend({ type: 'step.succeeded', group: 'g0', host: 'h9', pass: 'forward', step: 0 }),
    ).toMatchObject({ ok: false, error: { code: 'unknown_host' } });
    expect(
      driver.trySend({ type: 'step.succeeded', group: 'g0', host: 'h1', pass: 'forward', step: 1 }),
    ).toMatchObject({ ok: false, error: { code: 'unexpected_event' } });
    expect(
      driver.trySend({ type: 'health.passed', group: 'g0', host: 'h1', pass: 'forward' }),
    ).toMatchObject({ ok: false, error: { code: 'unexpected_event' } });
    expect(
      driver.trySend({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 0 }),
    ).toMatchObject({ ok: false, error: { code: 'unexpected_event' } });
    expect(driver.trySend({ type: 'verify.passed', group: 'g0' })).toMatchObject({
      ok: false,
      error: { code: 'unexpected_event' },
    });
    expect(driver.trySend({ type: 'gate.continued', group: 'g0', by: 'U1' })).toMatchObject({
      ok: false,
      error: { code: 'unexpected_event' },
    });
  });

  it('refuses anything after the rollout has finished', () => {
    const driver = new RolloutDriver(planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })));
    driver.hostSucceeds('g0', 'h1');
    expect(driver.trySend({ type: 'cancel.requested', by: 'U1' })).toMatchObject({
      ok: false,
      error: { code: 'rollout_finished' },
    });
  });

  it('accepts a probe result that lost the race with a failure, and changes nothing', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 2, parallel: 2 }], steps: 1 })),
    );
    driver.send({ type: 'step.succeeded', group: 'g0', host: 'h1', pass: 'forward', step: 0 });
    driver.stepFails('g0', 'h2', 0, 'forward', 'x');
    const before = driver.state;
    const late = driver.send({ type: 'health.passed', group: 'g0', host: 'h1', pass: 'forward' });
    expect(late.effects).toEqual([]);
    expect({ ...late.state, sequence: 0, updatedAt: 0 }).toEqual({
      ...before,
      sequence: 0,
      updatedAt: 0,
    });
  });

  it('never changes the state it is given', () => {
    const driver = new RolloutDriver(threeGroups());
    const frozen = JSON.stringify(driver.state);
    applyEvent(driver.state, {
      type: 'step.succeeded',
      group: 'g0',
      host: 'h1',
      pass: 'forward',
      step: 0,
      at: 5,
    });
    expect(JSON.stringify(driver.state)).toBe(frozen);
  });
});

describe('checkpoints', () => {
  it('round-trips through JSON and the schema', () => {
    const driver = new RolloutDriver(threeGroups());
    driver.hostSucceeds('g0', 'h1');
    expect(parseRolloutState(JSON.parse(JSON.stringify(driver.state)))).toEqual({
      ok: true,
      state: driver.state,
    });
  });

  it('refuses a checkpoint of another schema version, or a damaged one', () => {
    const driver = new RolloutDriver(threeGroups());
    expect(parseRolloutState({ ...driver.state, schemaVersion: 2 })).toEqual({
      ok: false,
      message: 'checkpoint has schema version 2; this baton reads 1',
    });
    const damaged = parseRolloutState({ ...driver.state, status: 'exploded' });
    expect(damaged.ok).toBe(false);
    expect(damaged.ok ? '' : damaged.message).toContain('status');
  });

  it('resumes the work that was in flight, and nothing already done', () => {
    const driver = new RolloutDriver(threeGroups());
    driver.hostSucceeds('g0', 'h1');
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 0 });
    driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 1 });
    expect(resumeEffects(driver.state)).toEqual([
      {
        type: 'run_step',
        group: 'g1',
        host: 'h3',
        pass: 'forward',
        step: 0,
        name: 's0',
        command: 'step-0 v2',
        timeoutMs: 300_000,
      },
      { type: 'probe_health', group: 'g1', host: 'h2', pass: 'forward' },
    ]);
  });

  it('resumes a gate and a verification', () => {
    const driver = new RolloutDriver(
      planFor(
        fleetPlaybook({ groups: [{ hosts: 1, verify: true, gate: 'manual' }, { hosts: 1 }] }),
      ),
    );
    driver.hostSucceeds('g0', 'h1');
    expect(resumeEffects(driver.state)).toEqual([{ type: 'run_verify', group: 'g0' }]);
    driver.send({ type: 'verify.passed', group: 'g0' });
    expect(resumeEffects(driver.state)).toEqual([{ type: 'await_gate', group: 'g0' }]);
  });
});
