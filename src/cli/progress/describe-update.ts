import type { RolloutUpdate } from '../../app/worker/run-rollout.js';
import {
  describeInventoryChanges,
  onlyText,
  skippedHosts,
  stepsOf,
  type RolloutState,
} from '../../core/rollout/index.js';
import { hostSummary } from './host-summary.js';

/** `4.2s` under a minute, `3m07s` above. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

function elapsed(state: RolloutState, at: number): string {
  return formatElapsed(at - state.startedAt);
}

/** One readable line for an update, or undefined for updates not worth a line of their own. */
export function describeUpdate(update: RolloutUpdate): string | undefined {
  const { state } = update;
  const plan = state.plan;
  if (update.kind === 'announcement') {
    const a = update.announcement;
    switch (a.type) {
      case 'rollout.started': {
        const hosts = plan.groups.reduce((sum, group) => sum + group.hosts.length, 0);
        const change =
          plan.previousVersion === null
            ? plan.version
            : `${plan.previousVersion} → ${plan.version}`;
        const only = onlyText(plan);
        const skipped = skippedHosts(plan);
        return [
          `${plan.kind} ${plan.service} to ${plan.environment}: ${change}, ${plan.groups.length} groups, ${hosts} hosts${only === '' ? '' : ` (only ${only})`}${skipped.length === 0 ? '' : `; already on ${plan.version}, left out: ${skipped.join(', ')}`}`,
          ...describeInventoryChanges(plan.inventoryChanges ?? []),
          ...(plan.notUpdated ?? []).map((left) =>
            left.detail === 'no longer listed by its inventory'
              ? `not updated: ${left.host} (${left.group}), no longer listed by its inventory`
              : `not updated: ${left.host} (${left.group}), left out within max_unreachable ${plan.unreachable?.written ?? ''}: ${left.detail}`,
          ),
        ].join('\n');
      }
      case 'group.started': {
        const group = plan.groups.find((candidate) => candidate.name === a.group);
        return `${a.group}: starting (${group?.hosts.length ?? 0} hosts, ${group?.parallel ?? 1} at a time)`;
      }
      case 'group.healthy':
        return `${a.group}: healthy on ${plan.version}`;
      case 'group.failed':
        return `${a.group}: FAILED: ${a.detail}`;
      case 'rollback.started':
        return `${a.group}: rolling back to ${plan.groups[0]?.hosts[0]?.rollback?.version ?? 'the previous version'}`;
      case 'rollback.finished':
        return `${a.group}: rolled back and healthy`;
      case 'rollout.completed': {
        const left = (plan.notUpdated ?? []).map((host) => host.host);
        const time = elapsed(state, update.at);
        const skipped = skippedHosts(plan);
        const already =
          skipped.length === 0 ? '' : `; left out as already on it: ${skipped.join(', ')}`;
        if (left.length === 0 && plan.only === undefined)
          return `done: ${plan.service} ${plan.version} is on every host of ${plan.environment} (${time})${already}`;
        const hosts = plan.groups.reduce((sum, group) => sum + group.hosts.length, 0);
        return [
          `done: ${plan.service} ${plan.version} is on ${hosts} host${hosts === 1 ? '' : 's'} of ${plan.environment}${plan.only === undefined ? '' : ` (only ${onlyText(plan)})`} (${time})${already}`,
          ...(left.length === 0 ? [] : [`  not updated: ${left.join(', ')}`]),
        ].join('\n');
      }
      case 'rollout.halted':
        return [
          `stopped (${a.status.replace('_', ' ')}, ${elapsed(state, update.at)}): ${a.detail}`,
          ...hostSummary(state),
        ].join('\n');
      case 'cancel.noted':
        return `cancel requested by ${a.by}: stopping after the current step`;
    }
  }
  const e = update.event;
  const back = 'pass' in e && e.pass === 'rollback' ? ' (rollback)' : '';
  const stepName = (step: number): string => {
    if (!('host' in e)) return `step ${step + 1}`;
    const group = plan.groups.find((candidate) => candidate.name === e.group);
    const host = group?.hosts.find((candidate) => candidate.name === e.host);
    const procedure = e.pass === 'rollback' ? host?.rollback : host?.forward;
    return stepsOf(procedure)[step]?.name ?? `step ${step + 1}`;
  };
  switch (e.type) {
    case 'step.started':
      return undefined;
    case 'step.succeeded':
      return `${e.group} ${e.host}: ${stepName(e.step)} ok${back}`;
    case 'step.failed':
      return `${e.group} ${e.host}: ${stepName(e.step)} FAILED${back}${e.exitCode === null ? '' : ` (exit ${e.exitCode})`}: ${e.detail}`;
    case 'step.timed_out':
      return `${e.group} ${e.host}: ${stepName(e.step)} TIMED OUT${back}`;
    case 'health.passed':
      return `${e.group} ${e.host}: healthy${back}`;
    case 'health.failed':
    case 'health.timed_out':
      return `${e.group} ${e.host}: NOT HEALTHY${back}: ${e.detail}`;
    case 'verify.passed':
      return `${e.group}: verified`;
    case 'verify.failed':
      return `${e.group}: verify FAILED: ${e.detail}`;
    case 'gate.continued':
      return `${e.group}: continued by ${e.by}`;
    case 'cancel.requested':
      return undefined;
  }
}
