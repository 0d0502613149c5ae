import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyChange,
  applyEvent,
  changeBetween,
  inFlight,
  isTerminal,
  parseRolloutState,
  progressOf,
  resumeEffects,
  withPlan,
  startRollout,
  type Effect,
  type Plan,
  type RolloutEvent,
  type RolloutState,
} from '../../src/core/rollout/index.js';
import { fleetPlaybook, planFor, type FleetShape } from '../support/playbooks.js';

const shape: fc.Arbitrary<FleetShape & { rollback: boolean }> = fc.record({
  groups: fc.array(
    fc.record({
      hosts: fc.integer({ min: 1, max: 4 }),
      parallel: fc.integer({ min: 1, max: 4 }),
      gate: fc.constantFrom(undefined, 'manual' as const),
      verify: fc.boolean(),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  steps: fc.integer({ min: 1, max: 3 }),
  hooks: fc.record({
    before: fc.integer({ min: 0, max: 2 }),
    after: fc.integer({ min: 0, max: 2 }),
  }),
  onFailure: fc.constantFrom('rollback_group' as const, 'rollback_all' as const, 'halt' as const),
  rollback: fc.boolean(),
});

/** One thing that happens in the world: which outstanding effect ends, and how, or a cancel or a crash. */
const action = fc.record({
  kind: fc.constantFrom(
    'complete',
    'complete',
    'complete',
    'complete',
    'complete',
    'complete',
    'cancel',
    'crash',
    'stale',
  ),
  pick: fc.nat(),
  outcome: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'fail', 'timeout'),
});
type Action = { kind: string; pick: number; outcome: string };

const ACTIVE = [
  'deploying',
  'verifying',
  'awaiting_gate',
  'draining',
  'rolling_back',
  'rollback_draining',
];

function checkInvariants(state: RolloutState): void {
  const plan = state.plan;
  state.groups.forEach((group, index) => {
    // Never more hosts of a group in flight than its parallelism.
    expect(inFlight(group)).toBeLessThanOrEqual(plan.groups[index]?.parallel ?? 0);
    // A group is only moving forward once every group before it is healthy.
    if (['deploying', 'verifying', 'awaiting_gate', 'draining'].includes(group.phase)) {
      expect(state.groups.slice(0, index).every((earlier) => earlier.phase === 'healthy')).toBe(
        true,
      );
    }
    // Hosts are only in flight in an active group.
    if (inFlight(group) > 0) expect(ACTIVE).toContain(group.phase);
  });
  // At most one group of the service is being worked on at once.
  expect(state.groups.filter((group) => ACTIVE.includes(group.phase)).length).toBeLessThanOrEqual(
    1,
  );
  expect(state.groups.filter((group) => inFlight(group) > 0).length).toBeLessThanOrEqual(1);
  if (isTerminal(state.status)) {
    expect(state.groups.every((group) => inFlight(group) === 0)).toBe(true);
  }
  if (state.status === 'succeeded') {
    expect(
      state.groups.every(
        (group) =>
          group.phase === 'healthy' && group.hosts.every((host) => host.phase === 'healthy'),
      ),
    ).toBe(true);
  }
  // The checkpoint is plain JSON and reads back as the same state.
  expect(parseRolloutState(JSON.parse(JSON.stringify(state)))).toEqual({ ok: true, state });
}

function outcomeEvents(effect: Effect, outcome: string, at: number): RolloutEvent[] {
  switch (effect.type) {
    case 'run_step': {
      const ref = {
        group: effect.group,
        host: effect.host,
        pass: effect.pass,
        step: effect.step,
        at,
      };
      const started: RolloutEvent = { type: 'step.started', ...ref };
      if (outcome === 'fail')
        return [started, { type: 'step.failed', ...ref, exitCode: 1, detail: 'exit 1' }];
      if (outcome === 'timeout') return [started, { type: 'step.timed_out', ...ref }];
      return [started, { type: 'step.succeeded', ...ref }];
    }
    case 'probe_health': {
      const ref = { group: effect.group, host: effect.host, pass: effect.pass, at };
      if (outcome === 'fail') return [{ type: 'health.failed', ...ref, detail: '503' }];
      if (outcome === 'timeout') return [{ type: 'health.timed_out', ...ref, detail: 'no answer' }];
      return [{ type: 'health.passed', ...ref }];
    }
    case 'run_verify':
      return [
        outcome === 'ok'
          ? { type: 'verify.passed', group: effect.group, at }
          : { type: 'verify.failed', group: effect.group, detail: 'bad', at },
      ];
    case 'await_gate':
      return [
        outcome === 'ok'
          ? { type: 'gate.continued', group: effect.group, by: 'U2', at }
          : { type: 'cancel.requested', by: 'U2', at },
      ];
    default:
      return [];
  }
}

interface Run {
  state: RolloutState;
  outstanding: Effect[];
  /** Forward step effects issued after each crash, with the groups that were healthy at that checkpoint. */
  resumed: { healthyAtCheckpoint: string[]; forwardSteps: string[] }[];
  forwardStepsPerGroup: Map<string, number>;
  everRolledBack: boolean;
  /** What a store holds: the progress when the run started (or resumed), then one change a step. */
  stored: { progress: string; changes: string[] };
}

/** Stores a transition the way the stores do: only what it changed, through JSON. */
function store(run: Run, next: RolloutState): void {
  run.stored.changes.push(JSON.stringify(changeBetween(run.state, next)));
  run.state = next;
}

/** The checkpoint as a worker loads it: the progress, every change applied in order, the plan. */
function load(run: Run): RolloutState {
  let state = withPlan(run.state.plan, JSON.parse(run.stored.progress) as RolloutState);
  for (const change of run.stored.changes) state = applyChange(state, JSON.parse(change));
  return state;
}

function record(run: Run, effects: Effect[]): void {
  for (const effect of effects) {
    if (effect.type === 'abandon') {
      // The orchestrator drops probes and verifications of an abandoned group (some arrive anyway: see 'stale').
      run.outstanding = run.outstanding.filter(
        (other) => !(other.type !== 'run_step' && 'group' in other && other.group === effect.group),
      );
    } else if (effect.type === 'finish') {
      run.outstanding = [];
    } else {
      run.outstanding.push(effect);
    }
    if (effect.type === 'run_step') {
      if (effect.pass === 'rollback') run.everRolledBack = true;
      else run.resumed.at(-1)?.forwardSteps.push(effect.group);
    }
  }
}

/**
 * The machine changes copies, never the state it is given (the checkpoint's change is computed
 * against it, and followers share its parts): frozen, any change to it throws.
 */
function frozen<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) frozen(child);
  return Object.freeze(value);
}

function deliver(run: Run, event: RolloutEvent): void {
  const result = applyEvent(frozen(run.state), event);
  if (!result.ok) throw new Error(`refused ${JSON.stringify(event)}: ${result.error.message}`);
  store(run, result.state);
  record(run, result.effects);
  checkInvariants(run.state);
}

function simulate(plan: Plan, actions: Action[]): Run {
  const started = startRollout(plan, 'r', 0);
  const run: Run = {
    state: started.state,
    outstanding: [],
    resumed: [],
    forwardStepsPerGroup: new Map(),
    everRolledBack: false,
    stored: { progress: JSON.stringify(progressOf(started.state)), changes: [] },
  };
  record(run, started.effects);
  checkInvariants(run.state);
  let at = 0;
  let staleProbe: Effect | undefined;
  const step = (chosen: Action) => {
    at += 1;
    if (chosen.kind === 'cancel') {
      deliver(run, { type: 'cancel.requested', by: 'U1', at });
    } else if (chosen.kind === 'crash') {
      // The worker dies; another loads the checkpoint (through JSON) and redoes what was in flight.
      const loaded = parseRolloutState(JSON.parse(JSON.stringify(load(run))));
      if (!loaded.ok) throw new Error(loaded.message);
      expect(loaded.state).toEqual(run.state);
      run.state = loaded.state;
      run.stored = { progress: JSON.stringify(progressOf(run.state)), changes: [] };
      run.outstanding = [];
      run.resumed.push({
        healthyAtCheckpoint: run.state.groups
          .filter((group) => group.phase === 'healthy')
          .map((group) => group.name),
        forwardSteps: [],
      });
      record(run, resumeEffects(run.state));
    } else if (chosen.kind === 'stale' && staleProbe !== undefined) {
      // A probe result from before an abandon arrives late: it must be accepted and change nothing.
      const effect = staleProbe;
      staleProbe = undefined;
      for (const event of outcomeEvents(effect, chosen.outcome, at)) {
        const result = applyEvent(frozen(run.state), event);
        if (result.ok) {
          expect(result.effects).toEqual([]);
          store(run, result.state);
        } else {
          expect(result.error.code).toBe('rollout_finished');
        }
      }
    } else if (run.outstanding.length > 0) {
      const index = chosen.pick % run.outstanding.length;
      const [effect] = run.outstanding.splice(index, 1) as [Effect];
      const events = outcomeEvents(effect, chosen.outcome, at);
      for (const event of events) deliver(run, event);
      if (effect.type === 'probe_health') {
        const again = run.state.groups
          .find((group) => group.name === effect.group)
          ?.hosts.find((host) => host.name === effect.host);
        if (again?.phase === 'stopped') staleProbe = effect;
      }
    }
  };
  for (const chosen of actions) {
    if (isTerminal(run.state.status)) break;
    step(chosen);
  }
  // Then the world behaves: everything outstanding succeeds, and the rollout must end.
  for (let guard = 0; guard < 500 && !isTerminal(run.state.status); guard++) {
    expect(run.outstanding.length).toBeGreaterThan(0);
    step({ kind: 'complete', pick: 0, outcome: 'ok' });
  }
  expect(isTerminal(run.state.status)).toBe(true);
  expect(load(run)).toEqual(run.state);
  return run;
}

function planOf(input: FleetShape & { rollback: boolean }): Plan {
  return planFor(fleetPlaybook(input), input.rollback ? {} : { previousVersion: null });
}

// size: 'max' lets fast-check generate the whole 80 actions: by default it keeps arrays to about
// ten, and the rest of a run would only ever see steps and checks succeed.
describe('the rollout machine under generated event sequences', () => {
  it('keeps every invariant and always ends', () => {
    fc.assert(
      fc.property(shape, fc.array(action, { maxLength: 80, size: 'max' }), (input, actions) => {
        simulate(planOf(input), actions);
      }),
      { numRuns: 250 },
    );
  });

  it('resuming from any checkpoint never repeats a completed group', () => {
    fc.assert(
      fc.property(shape, fc.array(action, { maxLength: 80, size: 'max' }), (input, actions) => {
        const run = simulate(planOf(input), actions);
        for (const resume of run.resumed) {
          for (const group of resume.forwardSteps)
            expect(resume.healthyAtCheckpoint).not.toContain(group);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('ends in the state the policy promises', () => {
    fc.assert(
      fc.property(shape, fc.array(action, { maxLength: 80, size: 'max' }), (input, actions) => {
        const plan = planOf(input);
        const { state, everRolledBack } = simulate(plan, actions);
        const failedAt = state.groups.findIndex((group) => group.name === state.failure?.group);
        if (state.status === 'succeeded') {
          expect(state.failure).toBeUndefined();
          return;
        }
        expect(failedAt).toBeGreaterThanOrEqual(0);
        // Nothing after the failed group was ever touched.
        for (const later of state.groups.slice(failedAt + 1)) {
          expect(later.phase).toBe('pending');
          expect(later.hosts.every((host) => !host.touched)).toBe(true);
        }
        const canRollBack = input.rollback && input.onFailure !== 'halt';
        if (!canRollBack) {
          expect(state.status).toBe('halted');
          expect(everRolledBack).toBe(false);
          return;
        }
        if (state.status === 'rollback_failed') return;
        expect(state.status).toBe('rolled_back');
        const rolledBack =
          input.onFailure === 'rollback_all'
            ? state.groups.slice(0, failedAt + 1)
            : [state.groups[failedAt]];
        for (const group of rolledBack) {
          expect(group?.phase).toBe('rolled_back');
          for (const host of group?.hosts ?? []) {
            if (host.touched) expect(host).toMatchObject({ pass: 'rollback', phase: 'healthy' });
          }
        }
        if (input.onFailure === 'rollback_group') {
          expect(state.groups.slice(0, failedAt).every((group) => group.phase === 'healthy')).toBe(
            true,
          );
        }
      }),
      { numRuns: 250 },
    );
  });
});
