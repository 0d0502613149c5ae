import type { Announcement, Effect } from './events.js';
import { hostsInPass } from './group-progress.js';
import {
  stepsOf,
  type HostProcedure,
  type Plan,
  type PlannedGroup,
  type PlannedHost,
} from './plan.js';
import type { FailureReason, GroupState, HostState, RolloutState, RolloutStatus } from './state.js';

/** Where each host of a planned group is, by name: plans never change, so this is kept. */
const positions = new WeakMap<PlannedGroup, Map<string, number>>();

function positionIn(group: PlannedGroup, name: string): number | undefined {
  let byName = positions.get(group);
  if (byName === undefined) {
    byName = new Map(group.hosts.map((host, at) => [host.name, at]));
    positions.set(group, byName);
  }
  return byName.get(name);
}

/**
 * One transition's working copy: the state being changed plus what it has asked for so far. A
 * group is copied the first time it is reached through group(), and a host the first time it is
 * reached through host(), so what a transition does not change stays shared with the state it
 * started from (and costs nothing to copy, compare or store): a transition costs the same in a
 * group of 1,000 hosts as in one of 10, but for copying the list of them.
 */
export class TransitionBuilder {
  readonly effects: Effect[] = [];
  readonly announcements: Announcement[] = [];
  private readonly copied = new Set<number>();
  private readonly copiedHosts = new Set<HostState>();
  constructor(readonly state: RolloutState) {}

  get plan(): Plan {
    return this.state.plan;
  }

  plannedHost(groupIndex: number, name: string): PlannedHost {
    const planned = this.plan.groups[groupIndex];
    const at = planned === undefined ? undefined : positionIn(planned, name);
    const host = at === undefined ? undefined : planned?.hosts[at];
    if (host === undefined) throw new Error(`plan has no host ${name} in group ${groupIndex}`);
    return host;
  }

  group(index: number): GroupState {
    const group = this.state.groups[index];
    if (group === undefined) throw new Error(`no group ${index}`);
    if (this.copied.has(index)) return group;
    const copy = { ...group, order: [...group.order], hosts: [...group.hosts] };
    this.state.groups[index] = copy;
    this.copied.add(index);
    return copy;
  }

  /** The host named `name` in group `index`, to change (this transition's own copy of it). */
  host(index: number, name: string): HostState | undefined {
    const group = this.group(index);
    const planned = this.plan.groups[index];
    let at = planned === undefined ? undefined : positionIn(planned, name);
    // A group's hosts are listed as its plan lists them; looked for when, somehow, not.
    if (at === undefined || group.hosts[at]?.name !== name) {
      at = group.hosts.findIndex((candidate) => candidate.name === name);
      if (at < 0) return undefined;
    }
    const host = group.hosts[at] as HostState;
    if (this.copiedHosts.has(host)) return host;
    const copy = { ...host };
    group.hosts[at] = copy;
    this.copiedHosts.add(copy);
    return copy;
  }

  private procedure(groupIndex: number, host: HostState): HostProcedure | undefined {
    const planned = this.plannedHost(groupIndex, host.name);
    return host.pass === 'forward' ? planned.forward : planned.rollback;
  }

  runStep(groupIndex: number, host: HostState): void {
    const step = stepsOf(this.procedure(groupIndex, host))[host.step];
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
      ...(step.on === undefined ? {} : { on: step.on }),
    });
  }

  /** The steps before the health check (before_host hooks included). */
  stepCount(groupIndex: number, host: HostState): number {
    return this.procedure(groupIndex, host)?.steps.length ?? 0;
  }

  /** Every step of the host's pass, the after_host hooks that follow its health check included. */
  stepTotal(groupIndex: number, host: HostState): number {
    return stepsOf(this.procedure(groupIndex, host)).length;
  }

  /** Starts hosts of the group's current pass until `parallel` of them are in flight. */
  fill(groupIndex: number): void {
    const group = this.group(groupIndex);
    const parallel = this.plan.groups[groupIndex]?.parallel ?? 1;
    const pass = group.phase === 'rolling_back' ? 'rollback' : 'forward';
    const pending = new Map(
      group.hosts
        .filter((host) => host.pass === pass && host.phase === 'pending')
        .map((host) => [host.name, host]),
    );
    let busy = inFlight(group);
    for (const name of group.order) {
      if (busy >= parallel || pending.size === 0) return;
      if (!pending.delete(name)) continue;
      this.runStep(groupIndex, this.host(groupIndex, name) as HostState);
      busy += 1;
    }
  }

  startGroup(index: number, at: number): void {
    const group = this.group(index);
    group.phase = 'deploying';
    group.startedAt = at;
    this.state.status = 'running';
    this.announcements.push({ type: 'group.started', group: group.name });
    this.fill(index);
    // Every host of the group was left out (already on the version): it is done as it starts.
    if (group.hosts.every((host) => host.phase === 'healthy')) this.groupHealthy(index, at);
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
    for (const { name, phase } of group.hosts)
      if (phase === 'checking') (this.host(index, name) as HostState).phase = 'stopped';
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
    // A host left out (already on the version) is never rolled back: it needs no target.
    const canRollBack = this.plan.groups.every((planned) =>
      planned.hosts.every((host) => host.skip === true || host.rollback !== undefined),
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
        `${this.state.failure?.group ?? 'a group'} failed (${detail}); rolled back to ${this.rolledBackTo()}.`,
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
    for (const { name } of order) {
      const host = this.host(index, name) as HostState;
      host.pass = 'rollback';
      host.phase = 'pending';
      host.step = 0;
    }
    this.state.status = 'rolling_back';
    this.announcements.push({ type: 'rollback.started', group: group.name });
    this.fill(index);
  }

  /** The versions hosts went back to: each host's own when it was read on another one. */
  private rolledBackTo(): string {
    const back = this.state.groups.flatMap((group, index) =>
      group.hosts
        .filter((host) => host.pass === 'rollback' && host.phase === 'healthy')
        .map((host) => ({
          host: host.name,
          version: this.plannedHost(index, host.name).rollback?.version,
        })),
    );
    const previous = this.plan.previousVersion;
    const usual = back.some((host) => host.version === previous) ? previous : back[0]?.version;
    if (usual === undefined || usual === null) return 'the previous version';
    const others = back.filter((host) => host.version !== usual);
    return others.length === 0
      ? usual
      : `${usual} (${others.map((host) => `${host.host} to ${host.version ?? '?'}`).join(', ')})`;
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
    const passHosts = hostsInPass(group);
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
