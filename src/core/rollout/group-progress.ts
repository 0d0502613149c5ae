import type { GroupState, HostState } from './state.js';

/** The hosts a group's current pass works on (all of them forward; the touched ones when rolling back). */
export function hostsInPass(group: GroupState): HostState[] {
  const inPass = new Set(group.order);
  return group.hosts.filter((host) => inPass.has(host.name));
}

export interface GroupProgress {
  /** Hosts of the current pass, and how many of them are healthy. */
  total: number;
  healthy: number;
  /** Hosts being restarted or checked now. */
  inFlight: string[];
  failed: string[];
  /** How long the group has been (or was) at work; undefined before it starts. */
  elapsedMs?: number;
}

/** What reports show about a group, derived from its state in one place. */
export function groupProgress(group: GroupState, now: number): GroupProgress {
  const pass = hostsInPass(group);
  return {
    total: pass.length,
    healthy: pass.filter((host) => host.phase === 'healthy').length,
    inFlight: pass
      .filter((host) => host.phase === 'running' || host.phase === 'checking')
      .map((host) => host.name),
    failed: group.hosts.filter((host) => host.phase === 'failed').map((host) => host.name),
    ...(group.startedAt === undefined
      ? {}
      : { elapsedMs: (group.finishedAt ?? now) - group.startedAt }),
  };
}

/** What a group is doing, in words (reports add their own symbols). */
export const PHASE_WORDS: Record<GroupState['phase'], string> = {
  pending: 'pending',
  deploying: 'restarting',
  verifying: 'verifying',
  awaiting_gate: 'waiting for Continue',
  healthy: 'healthy',
  draining: 'failing: finishing the steps in flight',
  rolling_back: 'rolling back',
  rollback_draining: 'rollback failing',
  rolled_back: 'rolled back',
  failed: 'failed',
  rollback_failed: 'ROLLBACK FAILED: needs a person',
};
