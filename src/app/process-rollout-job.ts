import type { RolloutJob, ScheduledRollback } from '../adapters/queue/rollout-jobs.js';
import { isTerminal, type RolloutState } from '../core/rollout/index.js';
import type { Clock, HealthProbe, RemoteExecutor } from './ports.js';
import { preflight } from './preflight.js';
import {
  RolloutRun,
  type GateAnswer,
  type RolloutPorts,
  type RolloutUpdate,
} from './run-rollout.js';
import type { AuditLog, HistoryStore, LockStore, RolloutStore, Target } from './store-ports.js';

export interface WorkerDeps {
  worker: string;
  executor: RemoteExecutor;
  health: HealthProbe;
  clock: Clock;
  locks: LockStore;
  rollouts: RolloutStore;
  history: HistoryStore;
  audit: AuditLog;
  /** How long a rollout's lock lives without being refreshed. */
  lockTtlMs: number;
  /** How often to look for a cancel request or a gate answer. */
  pollMs: number;
  /** Runs in progress in this process, so that shutting down can suspend them. */
  active: Set<RolloutRun>;
  schedule(rollback: ScheduledRollback): Promise<void>;
  /** Says something went wrong that the rollout survives (an update that could not be stored). */
  warn(message: string): void;
  metrics?: RolloutMetrics;
}

export type JobOutcome = 'finished' | 'refused' | 'suspended';

/** Counts for the operations endpoint; each rollout is counted once, by the worker recording it. */
export interface RolloutMetrics {
  rolloutFinished(kind: string, result: string, durationMs: number): void;
  groupFinished(durationMs: number): void;
  healthCheckFailed(): void;
}

/** The id of a rollback asked for at a time: asking twice for the same time asks once. */
export function scheduledRollbackId(target: Target, runAt: number): string {
  return `rollback-${target.service}-${target.environment}-${runAt}`;
}

/** The id of a dead-man rollback, so `keep` can find it. */
export function keepId(rollout: string): string {
  return `keep-${rollout}`;
}

function targetOf(job: RolloutJob): Target {
  return { service: job.plan.service, environment: job.plan.environment };
}

/**
 * The bookkeeping of a finished rollout. A worker that died during it leaves the job to be run
 * again, so each part is done once: a dead-man rollback someone already kept must not come back,
 * and the history and the audit log hold each rollout once.
 */
async function finish(
  job: RolloutJob,
  deps: WorkerDeps,
  state: RolloutState | undefined,
  result: RolloutState['status'] | 'cannot_connect',
): Promise<void> {
  const target = targetOf(job);
  const now = deps.clock.now();
  const redone = await deps.history.recorded(target, job.rollout);
  if (
    !redone &&
    result === 'succeeded' &&
    job.rollbackAfterMs !== undefined &&
    job.plan.previousVersion !== null
  ) {
    const rollback: ScheduledRollback = {
      id: keepId(job.rollout),
      ...target,
      version: job.plan.previousVersion,
      runAt: now + job.rollbackAfterMs,
      requestedBy: job.requestedBy,
      reason: 'rollback-after',
      ...(job.channel === undefined ? {} : { channel: job.channel }),
    };
    await deps.schedule(rollback);
    await deps.audit.append({
      at: now,
      actor: deps.worker,
      action: 'schedule.created',
      target,
      detail: { schedule: rollback.id, runAt: rollback.runAt, version: rollback.version },
    });
  }
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
    await deps.audit.append({
      at: now,
      actor: deps.worker,
      action: 'rollout.finished',
      target,
      detail: { rollout: job.rollout, result, version: job.plan.version },
    });
  await deps.locks.release(target, job.lockToken);
}

/**
 * Runs one rollout job to its end: takes (or keeps) its lock, starts it or resumes it from its
 * checkpoint, and records the outcome. Safe to call again for the same job after a crash.
 */
export async function processRolloutJob(job: RolloutJob, deps: WorkerDeps): Promise<JobOutcome> {
  const target = targetOf(job);
  const at = () => deps.clock.now();
  // The job's lock, taken (or kept, with the same token) when it starts and whenever it goes missing.
  const takeLock = () =>
    deps.locks.acquire(
      target,
      {
        token: job.lockToken,
        owner: job.requestedBy,
        reason: `${job.plan.kind} ${job.plan.version}`,
        since: at(),
        rollout: job.rollout,
      },
      deps.lockTtlMs,
    );
  // The job came back to this very process (its queue lock lapsed while the run went on): the
  // run here stops starting work, and the job resumes from its checkpoint once the run has settled,
  // so one process never runs a rollout twice at once.
  const earlier = [...deps.active].filter((run) => run.current.id === job.rollout);
  for (const run of earlier) run.suspend();
  await Promise.all(earlier.map((run) => run.settled()));
  const saved = await deps.rollouts.load(job.rollout);
  if (saved !== undefined && isTerminal(saved.status)) {
    // Finished, but its worker died before the job was marked done: finish the bookkeeping, and
    // take no lock for it (the target may well belong to the next rollout by now).
    await finish(job, deps, saved, saved.status);
    await deps.rollouts.append(job.rollout, {
      kind: 'finished',
      status: saved.status,
      at: at(),
      worker: deps.worker,
    });
    return 'finished';
  }
  const lock = await takeLock();
  if (!lock.ok) {
    await deps.rollouts.append(job.rollout, {
      kind: 'refused',
      reason: 'locked',
      detail: [
        `${target.service} in ${target.environment} is locked by ${lock.holder.owner} since ${new Date(lock.holder.since).toISOString()}: ${lock.holder.reason}`,
      ],
      at: at(),
      worker: deps.worker,
    });
    return 'refused';
  }
  if (saved === undefined) {
    const unreachable = await preflight(job.plan, deps.executor);
    if (unreachable.length > 0) {
      await finish(job, deps, undefined, 'cannot_connect');
      await deps.rollouts.append(job.rollout, {
        kind: 'refused',
        reason: 'cannot_connect',
        detail: unreachable.map((failure) => failure.message),
        at: at(),
        worker: deps.worker,
      });
      return 'refused';
    }
    await deps.audit.append({
      at: at(),
      actor: job.requestedBy,
      action: 'rollout.started',
      target,
      detail: { rollout: job.rollout, version: job.plan.version, worker: deps.worker },
    });
  } else {
    await deps.audit.append({
      at: at(),
      actor: deps.worker,
      action: 'rollout.resumed',
      target,
      detail: { rollout: job.rollout, sequence: saved.sequence },
    });
  }

  const stop = new AbortController();
  // Losing one progress update must not take the worker (and the rollout) down with it.
  const store = (what: string, write: Promise<unknown>) =>
    void write.catch((error: unknown) =>
      deps.warn(`rollout ${job.rollout}: could not store ${what}: ${(error as Error).message}`),
    );
  const ports: RolloutPorts = {
    executor: deps.executor,
    health: deps.health,
    clock: deps.clock,
    checkpoint: (state: RolloutState) => deps.rollouts.save(state),
    report: (update: RolloutUpdate) => {
      if (update.kind === 'event') {
        if (update.event.type === 'health.failed' || update.event.type === 'health.timed_out')
          deps.metrics?.healthCheckFailed();
        store(
          'an update',
          deps.rollouts.append(job.rollout, {
            kind: 'event',
            event: update.event,
            sequence: update.state.sequence,
            worker: deps.worker,
          }),
        );
        return;
      }
      const { announcement, at: when } = update;
      store(
        'an update',
        deps.rollouts.append(job.rollout, {
          kind: 'announcement',
          announcement,
          at: when,
          sequence: update.state.sequence,
          worker: deps.worker,
        }),
      );
      // Milestones go to the audit log too; every step stays in the rollout's own update stream.
      store(
        'an audit entry',
        deps.audit.append({
          at: when,
          actor: deps.worker,
          action: announcement.type,
          target,
          detail: { rollout: job.rollout, ...announcement },
        }),
      );
    },
    gate: async (group: string, _state: RolloutState, signal: AbortSignal): Promise<GateAnswer> => {
      for (;;) {
        const answer = await deps.rollouts.gateAnswer(job.rollout, group);
        if (answer !== undefined)
          return answer.continue
            ? { continue: true, by: answer.by }
            : { continue: false, by: answer.by };
        if (signal.aborted) return { continue: false, by: 'baton (gate abandoned)' };
        await deps.clock.sleep(deps.pollMs, signal);
      }
    },
  };
  const run =
    saved === undefined
      ? RolloutRun.start(job.plan, job.rollout, ports)
      : RolloutRun.resume(saved, ports);

  // While the rollout lives: keep its lock, and watch for a cancel request.
  const watch = (async () => {
    let lastRefresh = at();
    let cancelled = false;
    while (!stop.signal.aborted) {
      const by = cancelled ? undefined : await deps.rollouts.cancelRequestedBy(job.rollout);
      if (by !== undefined) {
        run.cancel(by);
        cancelled = true;
      }
      if (at() - lastRefresh >= deps.lockTtlMs / 3) {
        if (!(await deps.locks.refresh(target, job.lockToken, deps.lockTtlMs))) {
          // Someone removed the lock (unlock --force): take it back, or stop if another holds it now.
          const again = await takeLock();
          if (!again.ok && !cancelled) {
            run.cancel(
              `baton (the lock was taken by ${again.holder.owner}: ${again.holder.reason})`,
            );
            cancelled = true;
          }
        }
        lastRefresh = at();
      }
      await deps.clock.sleep(deps.pollMs, stop.signal);
    }
  })();
  try {
    deps.active.add(run);
    const outcome = await run.run();
    if (outcome.suspended) return 'suspended';
    await finish(job, deps, outcome.state, outcome.state.status);
    await deps.rollouts.append(job.rollout, {
      kind: 'finished',
      status: outcome.state.status,
      at: at(),
      worker: deps.worker,
    });
    return 'finished';
  } finally {
    deps.active.delete(run);
    stop.abort();
    await watch;
  }
}
