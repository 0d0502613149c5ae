import type { RolloutState } from '../../core/rollout/index.js';
import { auditEntry } from '../audit.js';
import type { RolloutJob } from '../jobs.js';
import type { Target } from '../target.js';
import { armDeadMan } from '../use-cases/schedules.js';
import type { WorkerDeps } from './deps.js';

export function targetOf(job: RolloutJob): Target {
  return { service: job.plan.service, environment: job.plan.environment };
}

/**
 * The bookkeeping of a finished rollout. A worker that died during it leaves the job to be run
 * again, so each part is done once: a dead-man rollback someone already kept must not come back,
 * and the history and the audit log hold each rollout once. The last update says it is all done.
 */
export async function finishRollout(
  job: RolloutJob,
  deps: WorkerDeps,
  state: RolloutState | undefined,
  result: RolloutState['status'] | 'cannot_connect',
): Promise<void> {
  const target = targetOf(job);
  const now = deps.clock.now();
  const notUpdated = (state?.plan.notUpdated ?? []).map((left) => left.host);
  const redone = await deps.history.recorded(target, job.rollout);
  const { rollbackAfterMs } = job;
  const previousVersion = job.plan.previousVersion;
  if (
    !redone &&
    result === 'succeeded' &&
    rollbackAfterMs !== undefined &&
    previousVersion !== null
  )
    await armDeadMan(
      deps,
      { ...job, rollbackAfterMs, plan: { ...job.plan, previousVersion } },
      deps.worker,
    );
  const recorded = await deps.history.record({
    ...target,
    rollout: job.rollout,
    kind: job.plan.kind,
    version: job.plan.version,
    previousVersion: job.plan.previousVersion,
    by: job.requestedBy,
    startedAt: state?.startedAt ?? now,
    finishedAt: state?.finishedAt ?? now,
    result,
  });
  if (recorded && deps.metrics !== undefined) {
    deps.metrics.rolloutFinished(
      job.plan.kind,
      result,
      (state?.finishedAt ?? now) - (state?.startedAt ?? now),
    );
    for (const group of state?.groups ?? [])
      if (group.startedAt !== undefined && group.finishedAt !== undefined)
        deps.metrics.groupFinished(group.finishedAt - group.startedAt);
  }
  if (recorded)
    deps.say?.(
      `rollout ${job.rollout} (${job.plan.kind} ${target.service} ${job.plan.version} to ${target.environment}) ended: ${result}`,
    );
  if (recorded)
    await deps.audit.append(
      auditEntry('rollout.finished', {
        at: now,
        actor: deps.worker,
        target,
        detail: {
          rollout: job.rollout,
          result,
          version: job.plan.version,
          ...(notUpdated.length === 0 ? {} : { notUpdated }),
        },
      }),
    );
  await deps.locks.release(target, job.lockToken);
}
