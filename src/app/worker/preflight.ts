import pLimit from 'p-limit';
import { withinBudget, type BudgetDecision, type Plan } from '../../core/rollout/index.js';
import { hookTargets, hostTarget } from '../host-target.js';
import {
  ConnectionError,
  ExecutorClosedError,
  type ConnectionFailure,
  type RemoteExecutor,
} from '../ports.js';

/** Connections opened at once while checking a fleet. */
const CONCURRENCY = 8;

/**
 * Connects to every host of the plan before anything runs, so an unknown host key or an
 * unreachable host stops the rollout while every host is still untouched.
 */
export async function preflight(
  plan: Plan,
  executor: RemoteExecutor,
  /** Once aborted, no further host is connected to (those under way finish). */
  signal?: AbortSignal,
): Promise<ConnectionError[]> {
  const limit = pLimit(CONCURRENCY);
  // The hosts hooks run on are checked too: a wrong load balancer key must stop it before any drain.
  const targets = [
    ...plan.groups.flatMap((group) => group.hosts.map((host) => hostTarget(plan, host))),
    ...hookTargets(plan),
  ];
  const results = await Promise.all(
    targets.map((target) =>
      limit(async () => {
        if (signal?.aborted === true) return undefined;
        try {
          await executor.connect(target);
          return undefined;
        } catch (error) {
          if (error instanceof ConnectionError) return error;
          throw error;
        }
      }),
    ),
  );
  return results.filter((result) => result !== undefined);
}

/**
 * Failures that say a host is down or cut off, which max_unreachable may leave out. A host whose
 * key is wrong or that refuses baton's credentials is a problem to fix, never one to deploy around.
 */
const UNREACHABLE: readonly ConnectionFailure[] = ['unreachable', 'timeout', 'lost'];

/**
 * Pre-flight, then the failure budget: the plan to run (perhaps without some hosts), or why not.
 * Throws ExecutorClosedError when its worker stopped meanwhile: that says nothing of the hosts,
 * and must neither refuse the rollout nor count against the budget.
 */
export async function preflightWithinBudget(
  plan: Plan,
  executor: RemoteExecutor,
): Promise<BudgetDecision> {
  const failures = await preflight(plan, executor);
  const closed = failures.find((failure) => failure instanceof ExecutorClosedError);
  if (closed !== undefined) throw closed;
  // A host that hooks run on (a load balancer, say) is needed by every host: never left out.
  const hookHosts = new Set(hookTargets(plan).map((target) => target.name));
  const untrusted = failures.filter(
    (failure) => !UNREACHABLE.includes(failure.code) || hookHosts.has(failure.host),
  );
  if (untrusted.length > 0)
    return { ok: false, detail: failures.map((failure) => failure.message) };
  return withinBudget(
    plan,
    failures.map((failure) => ({ host: failure.host, detail: failure.message })),
  );
}
