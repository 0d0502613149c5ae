import type { Announcement, Effect, RolloutError, RolloutEvent } from './events.js';
import { stepsOf, type Plan } from './plan.js';
import { isTerminal, STATE_SCHEMA_VERSION, type GroupState, type RolloutState } from './state.js';
import { TransitionBuilder } from './transition-builder.js';

export { inFlight } from './transition-builder.js';

export type Transition =
  | { ok: true; state: RolloutState; effects: Effect[]; announcements: Announcement[] }
  | { ok: false; error: RolloutError };

/** Phases a group is in while its forward pass is still going normally. */
const FORWARD_FLOW = ['pending', 'deploying', 'verifying', 'awaiting_gate', 'healthy'];

function initialGroups(plan: Plan): GroupState[] {
  return plan.groups.map((group) => ({
    name: group.name,
    phase: 'pending',
    order: group.hosts.map((host) => host.name),
    hosts: group.hosts.map((host) => ({
      name: host.name,
      pass: 'forward',
      // Already healthy on the version deployed: nothing to do, and nothing to roll back.
      phase: host.skip === true ? 'healthy' : 'pending',
      step: 0,
      touched: false,
    })),
  }));
}

export function startRollout(plan: Plan, id: string, at: number): Transition & { ok: true } {
  const state: RolloutState = {
    schemaVersion: STATE_SCHEMA_VERSION,
    id,
    plan,
    status: 'running',
    groups: initialGroups(plan),
    rollbackQueue: [],
    sequence: 0,
    startedAt: at,
    updatedAt: at,
  };
  const work = new TransitionBuilder(state);
  work.announcements.push({ type: 'rollout.started' });
  work.startGroup(0, at);
  return { ok: true, state: work.state, effects: work.effects, announcements: work.announcements };
}

function error(code: RolloutError['code'], message: string): Transition {
  return { ok: false, error: { code, message } };
}

function describe(event: RolloutEvent): string {
  return 'host' in event
    ? `${event.type} for ${event.host} in ${event.group}`
    : 'group' in event
      ? `${event.type} for ${event.group}`
      : event.type;
}

/**
 * Applies one event: (state, event) → (state, effects). Pure; the input state is not changed.
 * Results that arrive after their group has moved on (a probe that lost a race with a failure)
 * are accepted and change nothing; events that can never be right are typed errors.
 */
export function applyEvent(current: RolloutState, event: RolloutEvent): Transition {
  if (isTerminal(current.status)) {
    return error(
      'rollout_finished',
      `Rollout ${current.id} has already finished (${current.status}); ${event.type} changes nothing.`,
    );
  }
  // The plan and the groups this event leaves alone are shared with `current`, never changed.
  const work = new TransitionBuilder({
    ...current,
    groups: [...current.groups],
    rollbackQueue: [...current.rollbackQueue],
  });
  const { state } = work;
  state.sequence += 1;
  state.updatedAt = Math.max(state.updatedAt, event.at);
  const done = (): Transition => ({
    ok: true,
    state,
    effects: work.effects,
    announcements: work.announcements,
  });

  if (event.type === 'cancel.requested') {
    if (state.cancel !== undefined) return done();
    state.cancel = { by: event.by, at: event.at };
    work.announcements.push({ type: 'cancel.noted', by: event.by });
    const active = state.groups.findIndex((group) =>
      ['deploying', 'verifying', 'awaiting_gate'].includes(group.phase),
    );
    if (active >= 0) work.fail(active, 'cancelled', `cancelled by ${event.by}`, event.at);
    return done();
  }

  const index = state.groups.findIndex((group) => group.name === event.group);
  if (index < 0)
    return error('unknown_group', `Rollout ${state.id} has no group '${event.group}'.`);
  const group = work.group(index);
  const stale = !FORWARD_FLOW.includes(group.phase);

  switch (event.type) {
    case 'verify.passed':
    case 'verify.failed':
      if (group.phase !== 'verifying') {
        return stale
          ? done()
          : error(
              'unexpected_event',
              `${describe(event)} but the group is ${group.phase}, not verifying.`,
            );
      }
      if (event.type === 'verify.passed') work.groupHealthy(index, event.at);
      else work.fail(index, 'verify_failed', `verify failed: ${event.detail}`, event.at);
      return done();
    case 'gate.continued':
      if (group.phase !== 'awaiting_gate') {
        return stale
          ? done()
          : error(
              'unexpected_event',
              `${describe(event)} but the group is ${group.phase}, not waiting at its gate.`,
            );
      }
      work.groupHealthy(index, event.at);
      return done();
    default:
      break;
  }

  const host = work.host(index, event.host);
  if (host === undefined)
    return error('unknown_host', `Group ${group.name} has no host '${event.host}'.`);

  if (
    event.type === 'health.passed' ||
    event.type === 'health.failed' ||
    event.type === 'health.timed_out'
  ) {
    if (host.phase !== 'checking' || host.pass !== event.pass) {
      const late = host.phase === 'stopped' || host.pass !== event.pass || stale;
      return late
        ? done()
        : error(
            'unexpected_event',
            `${describe(event)} but the host is ${host.phase}, not being checked.`,
          );
    }
    if (event.type === 'health.passed') {
      // Healthy, and then its after_host hooks (it stays busy, counted as down, until they end).
      if (host.step < work.stepTotal(index, host)) work.runStep(index, host);
      else work.hostHealthy(index, host, event.at);
      return done();
    }
    host.phase = 'failed';
    host.error = event.detail;
    const reason = event.type === 'health.failed' ? 'health_failed' : 'health_timed_out';
    const detail = `${host.name} ${event.type === 'health.failed' ? 'is unhealthy' : 'did not become healthy in time'}: ${event.detail}`;
    if (host.pass === 'rollback') work.rollbackFailed(index, host, detail, event.at);
    else work.fail(index, reason, detail, event.at, host.name);
    return done();
  }

  if (host.phase !== 'running' || host.pass !== event.pass || host.step !== event.step) {
    return error(
      'unexpected_event',
      `${describe(event)} (${event.pass} step ${event.step}) but the host is ${host.phase} at ${host.pass} step ${host.step}.`,
    );
  }
  switch (event.type) {
    case 'step.started':
      return done();
    case 'step.succeeded':
      if (group.phase === 'draining' || group.phase === 'rollback_draining') {
        host.phase = 'stopped';
        host.step += 1;
        work.settle(index, event.at);
      } else if (host.step + 1 === work.stepCount(index, host)) {
        host.phase = 'checking';
        host.step += 1;
        work.effects.push({
          type: 'probe_health',
          group: group.name,
          host: host.name,
          pass: host.pass,
        });
      } else if (host.step + 1 < work.stepTotal(index, host)) {
        host.step += 1;
        work.runStep(index, host);
      } else {
        host.step += 1;
        work.hostHealthy(index, host, event.at);
      }
      return done();
    case 'step.failed':
    case 'step.timed_out': {
      const name =
        stepsOf(work.plannedHost(index, host.name)[host.pass])[host.step]?.name ??
        `step ${host.step}`;
      const detail =
        event.type === 'step.failed'
          ? `${name} failed on ${host.name}${event.exitCode === null ? '' : ` (exit ${event.exitCode})`}: ${event.detail}`
          : `${name} timed out on ${host.name}`;
      host.phase = 'failed';
      host.error = detail;
      if (host.pass === 'rollback') work.rollbackFailed(index, host, detail, event.at);
      else
        work.fail(
          index,
          event.type === 'step.failed' ? 'step_failed' : 'step_timed_out',
          detail,
          event.at,
          host.name,
        );
      return done();
    }
  }
}

/** What to do again after loading a checkpoint: the work that was in flight when it was written. */
export function resumeEffects(state: RolloutState): Effect[] {
  if (isTerminal(state.status)) return [];
  const work = new TransitionBuilder(structuredClone(state));
  const effects: Effect[] = [];
  state.groups.forEach((group, index) => {
    for (const host of group.hosts) {
      if (host.phase === 'running') {
        work.runStep(index, structuredClone(host));
      } else if (host.phase === 'checking') {
        effects.push({ type: 'probe_health', group: group.name, host: host.name, pass: host.pass });
      }
    }
    if (group.phase === 'verifying') effects.push({ type: 'run_verify', group: group.name });
    if (group.phase === 'awaiting_gate') effects.push({ type: 'await_gate', group: group.name });
  });
  return [...work.effects, ...effects];
}
