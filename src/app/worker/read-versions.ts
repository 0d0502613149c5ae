import pLimit from 'p-limit';
import {
  withHostVersions,
  type HostObservation,
  type Plan,
  type PlannedHost,
  type VersionsSeen,
} from '../../core/rollout/index.js';
import { hostTarget } from '../host-target.js';
import { isHostFailure, type HealthProbe, type RemoteExecutor } from '../ports.js';

/** Hosts read at once. */
const CONCURRENCY = 8;

/**
 * Reads the version every host runs (the playbook's `version`), and whether it is healthy, once
 * pre-flight has connected to them all. A host that cannot be read is not a reason to stop: its
 * version is unknown, so it is neither left out nor a rollback target of its own.
 */
export async function readHostVersions(
  plan: Plan,
  executor: RemoteExecutor,
  health: HealthProbe,
): Promise<VersionsSeen> {
  const limit = pLimit(CONCURRENCY);
  const problems: string[] = [];
  const observations = new Map<string, HostObservation>();
  const hosts = plan.groups.flatMap((group) => group.hosts);
  await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        try {
          const seen = await observe(plan, host, executor, health);
          if (typeof seen === 'string') problems.push(seen);
          else if (seen !== undefined) observations.set(host.name, seen);
        } catch (error) {
          if (!isHostFailure(error)) throw error;
          problems.push(`${host.name}: its version could not be read: ${error.message}`);
        }
      }),
    ),
  );
  const seen = withHostVersions(plan, observations);
  return { ...seen, unread: [...problems, ...seen.unread] };
}

async function observe(
  plan: Plan,
  host: PlannedHost,
  executor: RemoteExecutor,
  health: HealthProbe,
): Promise<HostObservation | string | undefined> {
  const reading = host.readVersion;
  if (reading === undefined) return undefined;
  const target = hostTarget(plan, host);
  const check = () => health.check(host.forward.probe, target, new AbortController().signal);
  if (reading.kind === 'from_health') {
    const result = await check();
    if (result.body === undefined)
      return `${host.name}: its health check gave no response to read the version from (${result.detail})`;
    return { output: result.body, healthy: result.healthy };
  }
  const result = await executor.run(target, reading.command, { timeoutMs: reading.timeoutMs });
  if (result.exitCode !== 0)
    return `${host.name}: the version command ${result.timedOut ? 'timed out' : `exited ${result.exitCode ?? 'without a status'}`}${result.stderrTail.trim() === '' ? '' : `: ${result.stderrTail.trim().split('\n').at(-1) ?? ''}`}`;
  // Only a host that might be left out needs its health: one on another version is deployed anyway.
  const healthy = plan.skipCurrent === true ? (await check()).healthy : false;
  return { output: result.stdoutTail, healthy };
}
