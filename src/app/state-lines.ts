import { formatSeconds } from '../core/duration.js';
import type { Playbook } from '../core/playbook/index.js';
import { runningVersion } from './history.js';
import type { HistoryEntry, HistoryStore, LockStore, RolloutStore } from './store-ports.js';

const ago = (now: number, then: number) => `${formatSeconds(Math.max(1000, now - then))} ago`;

/**
 * One line per service+environment: the version running, and the rollout or lock on it. The
 * terminal prints these lines and Slack shows them, so both say the same thing.
 */
export async function statusLines(
  stores: { history: HistoryStore; locks: LockStore; rollouts: RolloutStore },
  playbooks: readonly Playbook[],
  now: number,
): Promise<string[]> {
  const lines: string[] = [];
  for (const playbook of playbooks) {
    for (const environment of playbook.environments) {
      const target = { service: playbook.service, environment: environment.name };
      const [entries, holder] = await Promise.all([
        stores.history.list(target, 50),
        stores.locks.get(target),
      ]);
      const running = runningVersion(entries);
      let line = `${target.service} ${target.environment}: ${running ?? 'no deploy recorded'}`;
      if (holder?.rollout !== undefined) {
        const state = await stores.rollouts.load(holder.rollout);
        const active = state?.groups.find(
          (group) => !['pending', 'healthy', 'rolled_back'].includes(group.phase),
        );
        const where =
          active === undefined
            ? (state?.status ?? 'queued')
            : `group ${active.name} ${active.phase.replace('_', ' ')}`;
        line += `; ${state?.plan.kind ?? 'rollout'} to ${state?.plan.version ?? holder.reason} in progress (${where}), started by ${holder.owner} ${ago(now, holder.since)}`;
      } else if (holder !== undefined) {
        line += `; LOCKED by ${holder.owner} ${ago(now, holder.since)}: ${holder.reason}`;
      }
      lines.push(line);
    }
  }
  return lines;
}

export function historyLine(entry: HistoryEntry): string {
  const from = entry.previousVersion === null ? '' : ` (from ${entry.previousVersion})`;
  return `${new Date(entry.finishedAt).toISOString()}  ${entry.kind} ${entry.version}${from} by ${entry.by}: ${entry.result.replace('_', ' ')}`;
}
