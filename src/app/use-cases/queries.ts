import { formatSeconds } from '../../core/duration.js';
import type { Playbook } from '../../core/playbook/index.js';
import { canStopSchedule, requesterOf } from '../../core/policy/index.js';
import { describeHostVersions, hostVersionsAfter } from '../../core/rollout/index.js';
import { runningVersion } from '../history.js';
import type { ScheduleRecord } from '../schedule-ports.js';
import type { HistoryEntry } from '../store-ports.js';
import { actorFor, findPlaybook, resolveTarget } from './authorize.js';
import type { Principal, UseCaseDeps } from './deps.js';
import type { Outcome } from './outcome.js';

const ago = (now: number, then: number) => `${formatSeconds(Math.max(1000, now - then))} ago`;

/**
 * One line per service+environment: the version running, and the rollout or lock on it. The
 * terminal prints these lines and chat shows them, so both say the same thing.
 */
async function statusLines(
  deps: UseCaseDeps,
  playbooks: readonly Playbook[],
  now: number,
): Promise<string[]> {
  const lines: string[] = [];
  for (const playbook of playbooks) {
    for (const environment of playbook.environments) {
      const target = { service: playbook.service, environment: environment.name };
      const [entries, holder] = await Promise.all([
        deps.history.list(target, 50),
        deps.locks.get(target),
      ]);
      const running = runningVersion(entries);
      let line = `${target.service} ${target.environment}: ${running ?? 'no deploy recorded'}`;
      line += await hostVersionsPart(deps, entries[0], running);
      if (holder?.rollout !== undefined) {
        const state = await deps.rollouts.load(holder.rollout);
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

/**
 * What each host runs, as the newest finished rollout read it in pre-flight and then left it
 * (only for playbooks with `version`); empty when that rollout's state is no longer kept.
 */
async function hostVersionsPart(
  deps: UseCaseDeps,
  newest: HistoryEntry | undefined,
  recorded: string | null,
): Promise<string> {
  if (newest === undefined) return '';
  const state = await deps.rollouts.load(newest.rollout);
  const hosts = state === undefined ? undefined : hostVersionsAfter(state);
  return hosts === undefined ? '' : ` (${describeHostVersions(hosts, recorded)})`;
}

export function historyLine(entry: HistoryEntry): string {
  const from = entry.previousVersion === null ? '' : ` (from ${entry.previousVersion})`;
  return `${new Date(entry.finishedAt).toISOString()}  ${entry.kind} ${entry.version}${from} by ${entry.by}: ${entry.result.replace('_', ' ')}`;
}

/** What runs where, and what is rolling out or locked: of one service, or of all. */
export async function status(
  deps: UseCaseDeps,
  _who: Principal,
  ask: { service?: string },
): Promise<Outcome<'status', { lines: string[] }>> {
  const { playbooks } = await deps.playbooks.load();
  const chosen = [...playbooks.values()].filter(
    (playbook) => ask.service === undefined || playbook.service === ask.service,
  );
  if (ask.service !== undefined && chosen.length === 0) {
    const found = await findPlaybook(deps, ask.service);
    if ('ok' in found) return found;
  }
  const lines = await statusLines(deps, chosen, deps.clock.now());
  return { ok: true, code: 'status', lines, message: 'Status' };
}

/** The rollouts of one service+environment, newest first, with who asked and how each ended. */
export async function history(
  deps: UseCaseDeps,
  _who: Principal,
  ask: { service: string; environment?: string; limit: number },
): Promise<Outcome<'history', { entries: HistoryEntry[]; lines: string[] }>> {
  const resolved = await resolveTarget(deps, ask.service, ask.environment);
  if ('ok' in resolved) return resolved;
  const { target } = resolved;
  const entries = await deps.history.list(target, ask.limit);
  return {
    ok: true,
    code: 'history',
    entries,
    lines: entries.map(historyLine),
    message:
      entries.length === 0
        ? `No rollouts of ${target.service} in ${target.environment} yet.`
        : `History of ${target.service} in ${target.environment}`,
  };
}

export interface ListedSchedule extends ScheduleRecord {
  /** Whether the one asking may cancel (or keep) it: only they see its button. */
  mayStop: boolean;
}

/** Scheduled rollbacks that have not fired yet, soonest first. */
export async function schedules(
  deps: UseCaseDeps,
  who: Principal,
): Promise<Outcome<'schedules', { schedules: ListedSchedule[] }>> {
  const actor = await actorFor(deps, who);
  const { playbooks } = await deps.playbooks.load();
  const open = (await deps.schedules.open()).filter((item) => item.status === 'pending');
  const listed = open.map((item) => {
    const environment = playbooks
      .get(item.service)
      ?.environments.find((candidate) => candidate.name === item.environment);
    const mayStop =
      environment === undefined
        ? requesterOf(item.requestedBy) === actor.userId || actor.kind === 'operator'
        : canStopSchedule(item, environment, actor).allowed;
    return { ...item, mayStop };
  });
  return {
    ok: true,
    code: 'schedules',
    schedules: listed,
    message: listed.length === 0 ? 'No scheduled rollbacks.' : 'Scheduled rollbacks',
  };
}
