import type { UnreachableBudget } from '../playbook/model.js';
import type { NotUpdatedHost, Plan } from './plan.js';

/**
 * The failure budget: how many hosts that pre-flight cannot connect to a rollout may leave out.
 * A percentage is of the hosts the rollout covers and is rounded down, so the budget never lets
 * more hosts go than the playbook says (10% of 9 hosts is 0).
 */
export function allowedUnreachable(budget: UnreachableBudget | undefined, hosts: number): number {
  if (budget === undefined) return 0;
  // Integer arithmetic: 29% of 100 as a float is 28.999…, which would round down to 28.
  const allowed = 'count' in budget ? budget.count : Math.floor((budget.percent * hosts) / 100);
  return Math.min(allowed, hosts);
}

export function writtenBudget(budget: UnreachableBudget): string {
  return 'count' in budget ? String(budget.count) : `${budget.percent}%`;
}

/** A host pre-flight could not connect to, and why. */
export interface UnreachableHost {
  host: string;
  detail: string;
}

/** Refused: `detail` has one line per host; `summary`, when there is one, what the budget made of them. */
export type BudgetDecision =
  | { ok: true; plan: Plan; notUpdated: NotUpdatedHost[] }
  | { ok: false; summary?: string; detail: string[] };

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * What pre-flight's failures mean for the rollout: within the budget the plan goes on without
 * those hosts (and says so in `notUpdated`); over it, or with no host left, it is refused.
 */
export function withinBudget(plan: Plan, unreachable: UnreachableHost[]): BudgetDecision {
  if (unreachable.length === 0) return { ok: true, plan, notUpdated: plan.notUpdated ?? [] };
  const total = plan.groups.reduce((sum, group) => sum + group.hosts.length, 0);
  const allowed = plan.unreachable?.allowed ?? 0;
  const failures = unreachable.map((failure) => failure.detail);
  // Without a budget, as before there was one: the hosts' own failures say it all.
  if (plan.unreachable === undefined) return { ok: false, detail: failures };
  if (unreachable.length > allowed)
    return {
      ok: false,
      summary: `${plural(unreachable.length, 'host')} of ${total} cannot be connected to, more than max_unreachable ${plan.unreachable.written} allows (${allowed})`,
      detail: failures,
    };
  if (unreachable.length === total)
    return {
      ok: false,
      summary: `none of the hosts can be connected to (${total} of ${total})`,
      detail: failures,
    };
  const why = new Map(unreachable.map((failure) => [failure.host, failure.detail]));
  const notUpdated: NotUpdatedHost[] = plan.groups.flatMap((group) =>
    group.hosts
      .filter((host) => why.has(host.name))
      .map((host) => ({ host: host.name, group: group.name, detail: why.get(host.name) ?? '' })),
  );
  const groups = plan.groups
    .map((group) => {
      const hosts = group.hosts.filter((host) => !why.has(host.name));
      return { ...group, hosts, parallel: Math.max(1, Math.min(group.parallel, hosts.length)) };
    })
    .filter((group) => group.hosts.length > 0);
  const all = [...(plan.notUpdated ?? []), ...notUpdated];
  return { ok: true, plan: { ...plan, groups, notUpdated: all }, notUpdated: all };
}
