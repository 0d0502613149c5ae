import { formatElapsed } from './describe-update.js';
import type { GroupState, RolloutState } from '../../core/rollout/index.js';

const LABEL: Record<GroupState['phase'], string> = {
  pending: '· pending',
  deploying: '⟳ restarting',
  verifying: '⟳ verifying',
  awaiting_gate: '? waiting for Continue',
  healthy: '✓ healthy',
  draining: '✗ failing, finishing current steps',
  rolling_back: '↩ rolling back',
  rollback_draining: '✗ rollback failing',
  rolled_back: '↩ rolled back',
  failed: '✗ failed',
  rollback_failed: '✗ rollback failed',
};

/** One line per group: what it is doing, how many hosts are done, and for how long. */
export function groupLines(state: RolloutState, now: number): string[] {
  const width = Math.max(...state.groups.map((group) => group.name.length));
  return state.groups.map((group) => {
    const inPass = group.hosts.filter((host) => group.order.includes(host.name));
    const healthy = inPass.filter((host) => host.phase === 'healthy').length;
    const counted = group.phase === 'pending' ? '' : `  ${healthy}/${inPass.length}`;
    const since =
      group.startedAt === undefined
        ? ''
        : `  ${formatElapsed((group.finishedAt ?? now) - group.startedAt)}`;
    return `  ${group.name.padEnd(width)}  ${LABEL[group.phase]}${counted}${since}`;
  });
}
