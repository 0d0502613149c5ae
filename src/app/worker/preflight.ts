import pLimit from 'p-limit';
import type { Plan } from '../../core/rollout/index.js';
import { hostTarget } from '../host-target.js';
import { ConnectionError, type RemoteExecutor } from '../ports.js';

/** Connections opened at once while checking a fleet. */
const CONCURRENCY = 8;

/**
 * Connects to every host of the plan before anything runs, so an unknown host key or an
 * unreachable host stops the rollout while every host is still untouched.
 */
export async function preflight(plan: Plan, executor: RemoteExecutor): Promise<ConnectionError[]> {
  const limit = pLimit(CONCURRENCY);
  const hosts = plan.groups.flatMap((group) => group.hosts);
  const results = await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        try {
          await executor.connect(hostTarget(plan, host));
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
