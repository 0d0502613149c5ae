import type { Announcement, Effect, RolloutError, RolloutEvent } from './events.js';
import type { Plan, PlannedHost } from './plan.js';
import {
  isTerminal,
  STATE_SCHEMA_VERSION,
  type FailureReason,
  type GroupState,
  type HostState,
  type RolloutState,
  type RolloutStatus,
} from './state.js';

export type Transition =
  | { ok: true; state: RolloutState; effects: Effect[]; announcements: Announcement[] }
  | { ok: false; error: RolloutError };

/** Phases a group is in while its forward pass is still going normally. */
const FORWARD_FLOW = ['pending', 'deploying', 'verifying', 'awaiting_gate', 'healthy'];

/** One transition's working copy: the state being changed plus what it has asked for so far. */
class Step {
  readonly effects: Effect[] = [];
  readonly announcements: Announcement[] = [];
  constructor(readonly state: RolloutState) {}

  get plan(): Plan {
    return this.state.plan;
  }

  plannedHost(groupIndex: number, name: string): PlannedHost {
    const host = this.plan.groups[groupIndex]?.hosts.find((candidate) => candidate.name === name);
    if (host === undefined) throw new Error(`plan has no host ${name} in group ${groupIndex}`);
    return host;
  }

  group(index: number): GroupState {
    const group = this.state.groups[index];
    if (group === undefined) throw new Error(`no group ${index}`);
    return group;
  }

  runStep(groupIndex: number, host: HostState): void {
    const planned = this.plannedHost(groupIndex, host.name);
    const procedure = host.pass === 'forward' ? planned.forward : planned.rollback;
    const step = procedure?.steps[host.step];
    if (step === undefined) throw new Error(`no step ${host.step} for ${host.name}`);
    host.phase = 'running';
    if (host.pass === 'forward') host.touched = true;
    this.effects.push({
      type: 'run_step',
      group: this.group(groupIndex).name,
      host: host.name,
      pass: host.pass,
      step: host.step,
      name: step.name,
      command: step.command,
      timeoutMs: step.timeoutMs,
    });
  }

  stepCount(groupIndex: number, host: HostState): number {
    const planned = this.plannedHost(groupIndex, host.name);
    return (host.pass === 'forward' ? planned.forward : planned.rollback)?.steps.length ?? 0;
  }

  /** Starts hosts of the group's current pass until `parallel` of them are in flight. */
  fill(groupIndex: number): void {
    const group = this.group(groupIndex);
    const parallel = this.plan.groups[groupIndex]?.parallel ?? 1;
    const pass = group.phase === 'rolling_back' ? 'rollback' : 'forward';
    for (const name of group.order) {
      if (inFlight(group) >= parallel) return;
      const host = group.hosts.find((candidate) => candidate.name === name);
      if (host !== undefined && host.pass === pass && host.phase === 'pending')
        this.runStep(groupIndex, host);
    }
  }

  startGroup(index: number, at: number): void {
    const group = this.group(index);
    group.phase = 'deploying';
    group.startedAt = at;
    this.state.status = 'running';
    this.announcements.push({ type: 'group.started', group: group.name });
    this.fill(index);
  }

  finish(status: RolloutStatus, at: number, detail: string): void {
    this.state.status = status;
    this.state.finishedAt = at;
    this.announcements.push(
      status === 'succeeded'
        ? { type: 'rollout.completed' }
        : { type: 'rollout.halted', status, detail },
    );
    this.effects.push({ type: 'finish', status });
  }

  groupHealthy(index: number, at: number): void {
    const group = this.group(index);
    const verify = this.plan.groups[index]?.hosts[0]?.forward.verify;
    if (group.phase === 'deploying' && verify !== undefined) {
      group.phase = 'verifying';
      this.effects.push({ type: 'run_verify', group: group.name });
      return;
    }
    const isLast = index === this.state.groups.length - 1;
    if (this.plan.groups[index]?.gate === 'manual' && !isLast && group.phase !== 'awaiting_gate') {
      group.phase = 'awaiting_gate';
      this.state.status = 'awaiting_gate';
      this.effects.push({ type: 'await_gate', group: group.name });
      return;
    }
    group.phase = 'healthy';
    group.finishedAt = at;
    this.announcements.push({ type: 'group.healthy', group: group.name });
    if (isLast) this.finish('succeeded', at, 'every group is healthy');
    else this.startGroup(index + 1, at);
  }

  /** A forward failure: stop starting work in the group, then apply the policy once it is quiet. */
  fail(index: number, reason: FailureReason, detail: string, at: number, host?: string): void {
    const group = this.group(index);
    this.state.failure ??= {
      group: group.name,
      reason,
      detail,
      at,
      ...(host === undefined ? {} : { host }),
    };
    if (group.phase === 'draining') {
      this.settle(index, at);
      return;
    }
    group.phase = 'draining';
    this.state.status = 'draining';
    this.announcements.push({ type: 'group.failed', group: group.name, detail });
    this.abandon(index);
    this.settle(index, at);
  }

  /** Probes and verification of a failing group no longer matter; running steps are let finish. */
  abandon(index: number): void {
    const group = this.group(index);
    for (const host of group.hosts) if (host.phase === 'checking') host.phase = 'stopped';
    this.effects.push({ type: 'abandon', group: group.name });
  }

  settle(index: number, at: number): void {
    const group = this.group(index);
    if (group.hosts.some((host) => host.phase === 'running')) return;
    if (group.phase === 'rollback_draining') {
      group.phase = 'rollback_failed';
      group.finishedAt = at;
      const detail = this.state.rollbackFailure?.detail ?? 'rollback failed';
      this.finish(
        'rollback_failed',
        at,
        `rolling back ${group.name} failed: ${detail}. Those hosts need a person.`,
      );
      return;
    }
    if (group.phase === 'draining') this.applyPolicy(index, at);
  }

  applyPolicy(index: number, at: number): void {
    const group = this.group(index);
    const canRollBack = this.plan.groups.every((planned) =>
      planned.hosts.every((host) => host.rollback !== undefined),
    );
    const detail = this.state.failure?.detail ?? 'failed';
    if (this.plan.onFailure === 'halt' || !canRollBack) {
      group.phase = 'failed';
      group.finishedAt = at;
      const why =
        this.plan.onFailure === 'halt'
          ? 'on_failure is halt'
          : 'there is no previous version to roll back to';
      this.finish(
        'halted',
        at,
        `${group.name} failed (${detail}); nothing was rolled back because ${why}.`,
      );
      return;
    }
    const older =
      this.plan.onFailure === 'rollback_all'
        ? Array.from({ length: index }, (_, i) => index - 1 - i)
        : [];
    this.state.rollbackQueue = [index, ...older];
    this.nextRollback(at);
  }

  nextRollback(at: number): void {
    const index = this.state.rollbackQueue.shift();
    if (index === undefined) {
      const detail = this.state.failure?.detail ?? 'failed';
      this.finish(
        'rolled_back',
        at,
        `${this.state.failure?.group ?? 'a group'} failed (${detail}); rolled back to ${this.plan.groups[0]?.hosts[0]?.rollback?.version ?? 'the previous version'}.`,
      );
      return;
    }
    const group = this.group(index);
    // Hosts already down go first, so a rollback never takes down more hosts than `parallel`.
    const touched = group.hosts.filter((host) => host.touched);
    const order = [
      ...touched.filter((host) => host.phase !== 'healthy'),
      ...touched.filter((host) => host.phase === 'healthy'),
    ];
    if (order.length === 0) {
      group.phase = 'rolled_back';
      this.nextRollback(at);
      return;
    }
    group.phase = 'rolling_back';
    group.order = order.map((host) => host.name);
    for (const host of order) {
      host.pass = 'rollback';
      host.phase = 'pending';
      host.step = 0;
    }
    this.state.status = 'rolling_back';
    this.announcements.push({ type: 'rollback.started', group: group.name });
    this.fill(index);
  }

  rollbackFailed(index: number, host: HostState, detail: string, at: number): void {
    const group = this.group(index);
    this.state.rollbackFailure ??= {
      group: group.name,
      host: host.name,
      reason: 'step_failed',
      detail,
      at,
    };
    if (group.phase !== 'rollback_draining') {
      group.phase = 'rollback_draining';
      this.abandon(index);
    }
    this.settle(index, at);
  }

  hostHealthy(index: number, host: HostState, at: number): void {
    host.phase = 'healthy';
    const group = this.group(index);
    const passHosts = group.hosts.filter((candidate) => group.order.includes(candidate.name));
    if (group.phase === 'rolling_back') {
      if (passHosts.every((candidate) => candidate.phase === 'healthy')) {
        group.phase = 'rolled_back';
        group.finishedAt = at;
        this.announcements.push({ type: 'rollback.finished', group: group.name });
        this.nextRollback(at);
      } else this.fill(index);
      return;
    }
    if (passHosts.every((candidate) => candidate.phase === 'healthy')) this.groupHealthy(index, at);
    else this.fill(index);
  }
}

export function inFlight(group: GroupState): number {
  return group.hosts.filter((host) => host.phase === 'running' || host.phase === 'checking').length;
}

function initialGroups(plan: Plan): GroupState[] {
  return plan.groups.map((group) => ({
    name: group.name,
    phase: 'pending',
    order: group.hosts.map((host) => host.name),
    hosts: group.hosts.map((host) => ({
      name: host.name,
      pass: 'forward',
      phase: 'pending',
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
  const step = new Step(state);
  step.announcements.push({ type: 'rollout.started' });
  step.startGroup(0, at);
  return { ok: true, state: step.state, effects: step.effects, announcements: step.announcements };
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
  const step = new Step(structuredClone(current));
  const { state } = step;
  state.sequence += 1;
  state.updatedAt = Math.max(state.updatedAt, event.at);
  const done = (): Transition => ({
    ok: true,
    state,
    effects: step.effects,
    announcements: step.announcements,
  });

  if (event.type === 'cancel.requested') {
    if (state.cancel !== undefined) return done();
    state.cancel = { by: event.by, at: event.at };
    step.announcements.push({ type: 'cancel.noted', by: event.by });
    const active = state.groups.findIndex((group) =>
      ['deploying', 'verifying', 'awaiting_gate'].includes(group.phase),
    );
    if (active >= 0) step.fail(active, 'cancelled', `cancelled by ${event.by}`, event.at);
    return done();
  }

  const index = state.groups.findIndex((group) => group.name === event.group);
  const group = state.groups[index];
  if (group === undefined)
    return error('unknown_group', `Rollout ${state.id} has no group '${event.group}'.`);
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
      if (event.type === 'verify.passed') step.groupHealthy(index, event.at);
      else step.fail(index, 'verify_failed', `verify failed: ${event.detail}`, event.at);
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
      step.groupHealthy(index, event.at);
      return done();
    default:
      break;
  }

  const host = group.hosts.find((candidate) => candidate.name === event.host);
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
      step.hostHealthy(index, host, event.at);
      return done();
    }
    host.phase = 'failed';
    host.error = event.detail;
    const reason = event.type === 'health.failed' ? 'health_failed' : 'health_timed_out';
    const detail = `${host.name} ${event.type === 'health.failed' ? 'is unhealthy' : 'did not become healthy in time'}: ${event.detail}`;
    if (host.pass === 'rollback') step.rollbackFailed(index, host, detail, event.at);
    else step.fail(index, reason, detail, event.at, host.name);
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
        step.settle(index, event.at);
      } else if (host.step + 1 < step.stepCount(index, host)) {
        host.step += 1;
        step.runStep(index, host);
      } else {
        host.phase = 'checking';
        step.effects.push({
          type: 'probe_health',
          group: group.name,
          host: host.name,
          pass: host.pass,
        });
      }
      return done();
    case 'step.failed':
    case 'step.timed_out': {
      const name =
        step.plannedHost(index, host.name)[host.pass]?.steps[host.step]?.name ??
        `step ${host.step}`;
      const detail =
        event.type === 'step.failed'
          ? `${name} failed on ${host.name}${event.exitCode === null ? '' : ` (exit ${event.exitCode})`}: ${event.detail}`
          : `${name} timed out on ${host.name}`;
      host.phase = 'failed';
      host.error = detail;
      if (host.pass === 'rollback') step.rollbackFailed(index, host, detail, event.at);
      else
        step.fail(
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
  const step = new Step(structuredClone(state));
  const effects: Effect[] = [];
  state.groups.forEach((group, index) => {
    for (const host of group.hosts) {
      if (host.phase === 'running') {
        step.runStep(index, structuredClone(host));
      } else if (host.phase === 'checking') {
        effects.push({ type: 'probe_health', group: group.name, host: host.name, pass: host.pass });
      }
    }
    if (group.phase === 'verifying') effects.push({ type: 'run_verify', group: group.name });
    if (group.phase === 'awaiting_gate') effects.push({ type: 'await_gate', group: group.name });
  });
  return [...step.effects, ...effects];
}
