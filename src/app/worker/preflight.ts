import pLimit from 'p-limit';
import type { Plan } from '../../core/rollout/index.js';
import { hookTargets, hostTarget } from '../host-target.js';
import { ConnectionError, type RemoteExecutor } from '../ports.js';

/** Connections opened at once while checking a fleet. */
const CONCURRENCY = 8;

/**
 * Connects to every host of the plan before anything runs, so an unknown host key or an
 * unreachable host stops the rollout while every host is still untouched.
 */
export async function preflight(plan: Plan, executor: RemoteExecutor): Promise<ConnectionError[]> {
  const limit = pLimit(CONCURRENCY);
  // The hosts hooks run on are checked too: a wrong load balancer key must stop it before any drain.
  const targets = [
    ...plan.groups.flatMap((group) => group.hosts.map((host) => hostTarget(plan, host))),
    ...hookTargets(plan),
  ];
  const results = await Promise.all(
    targets.map((target) =>
      limit(async () => {
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
