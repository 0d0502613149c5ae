import {
  groupProgress,
  PHASE_WORDS,
  type GroupState,
  type RolloutState,
} from '../../core/rollout/index.js';
import { formatElapsed } from './describe-update.js';

const SYMBOL: Record<GroupState['phase'], string> = {
  pending: '·',
  deploying: '⟳',
  verifying: '⟳',
  awaiting_gate: '?',
  healthy: '✓',
  draining: '✗',
  rolling_back: '↩',
  rollback_draining: '✗',
  rolled_back: '↩',
  failed: '✗',
  rollback_failed: '✗',
};

/** One line per group: what it is doing, how many hosts are done, and for how long. */
export function groupLines(state: RolloutState, now: number): string[] {
  const width = Math.max(...state.groups.map((group) => group.name.length));
  return state.groups.map((group) => {
    const progress = groupProgress(group, now);
    const counted = group.phase === 'pending' ? '' : `  ${progress.healthy}/${progress.total}`;
    const since = progress.elapsedMs === undefined ? '' : `  ${formatElapsed(progress.elapsedMs)}`;
    return `  ${group.name.padEnd(width)}  ${SYMBOL[group.phase]} ${PHASE_WORDS[group.phase]}${counted}${since}`;
  });
}
