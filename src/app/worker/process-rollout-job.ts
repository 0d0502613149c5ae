import { giveUp, isTerminal, startRollout, type RolloutState } from '../../core/rollout/index.js';
import { ExecutorClosedError } from '../ports.js';
import { auditEntry } from '../audit.js';
import type { RolloutJob } from '../jobs.js';
import type { JobAttempt } from '../queue-ports.js';
import type { JobOutcome, WorkerDeps } from './deps.js';
import { finishRollout, targetOf } from './finish-rollout.js';
import { inventoryAtStart } from './inventory-at-start.js';
import { preflightWithinBudget } from './preflight.js';
import { readHostVersions } from './read-versions.js';
import { rolloutPorts } from './rollout-ports.js';
import { RolloutRun, type RolloutOutcome } from './run-rollout.js';
import { watchRollout } from './watch-rollout.js';

/**
 * Runs one rollout job to its end: takes (or keeps) its lock, starts it or resumes it from its
 * checkpoint, and records the outcome. Safe to call again for the same job after a crash. A run
 * that its store keeps failing is suspended for a later attempt; on the last attempt it ends in a
 * stated final state (given up, every host as it was left), so nothing is "running" for ever.
 */
export async function processRolloutJob(
  job: RolloutJob,
  deps: WorkerDeps,
  attempt: JobAttempt = { attempt: 1, attempts: 1 },
): Promise<JobOutcome> {
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
  for (const run of earlier) run.suspend('its job came back to this process', 'lock_lost');
  await Promise.all(earlier.map((run) => run.settled()));
  const saved = await deps.rollouts.load(job.rollout);
  if (saved !== undefined && isTerminal(saved.status)) {
    // Finished, but its worker died before the job was marked done: finish the bookkeeping, and
    // take no lock for it (the target may well belong to the next rollout by now).
    await finished(job, deps, saved);
    return { kind: 'finished' };
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
    return { kind: 'refused' };
  }
  // What runs: the approved plan, less the hosts pre-flight left out within the failure budget,
  // with what pre-flight read of each host's version.
  let plan = job.plan;
  if (saved === undefined) {
    // Nothing was touched: the rollout ends before it began, and its followers are told why.
    const refuse = async (
      reason: 'inventory_failed' | 'cannot_connect',
      detail: string[],
      summary?: string,
    ): Promise<JobOutcome> => {
      await finishRollout(job, deps, undefined, 'cannot_connect');
      await deps.rollouts.append(job.rollout, {
        kind: 'refused',
        reason,
        ...(summary === undefined ? {} : { summary }),
        detail,
        at: at(),
        worker: deps.worker,
      });
      return { kind: 'refused' };
    };
    const listed = await inventoryAtStart(job.plan, deps.inventory);
    if (!listed.ok) return refuse('inventory_failed', listed.detail);
    let seen: Awaited<ReturnType<typeof readHostVersions>>;
    try {
      const decision = await preflightWithinBudget(listed.plan, deps.executor);
      if (!decision.ok) return refuse('cannot_connect', decision.detail, decision.summary);
      seen = await readHostVersions(decision.plan, deps.executor, deps.health);
    } catch (error) {
      // Its worker is stopping: nothing was touched, and another attempt starts it afresh.
      if (!(error instanceof ExecutorClosedError)) throw error;
      return leftForLater(job, deps, attempt, 'its worker stopped before it started');
    }
    plan = seen.plan;
    for (const problem of seen.unread) deps.warn(`rollout ${job.rollout}: ${problem}`);
    const notUpdated = (plan.notUpdated ?? []).map((left) => left.host);
    await deps.audit.append(
      auditEntry('rollout.started', {
        at: at(),
        actor: job.requestedBy,
        target,
        detail: {
          rollout: job.rollout,
          version: job.plan.version,
          worker: deps.worker,
          ...(notUpdated.length === 0 ? {} : { notUpdated }),
          ...(listed.changes.length === 0 ? {} : { inventoryChanges: listed.changes }),
          ...(seen.skipped.length === 0 ? {} : { skipped: seen.skipped }),
          ...(seen.unread.length === 0 ? {} : { unread: seen.unread }),
        },
      }),
    );
  } else {
    await deps.audit.append(
      auditEntry('rollout.resumed', {
        at: at(),
        actor: deps.worker,
        target,
        detail: { rollout: job.rollout, sequence: saved.sequence },
      }),
    );
  }

  const stop = new AbortController();
  const holder: { run?: RolloutRun } = {};
  const ports = rolloutPorts(job, deps, (reason, cause) => holder.run?.suspend(reason, cause));
  const run =
    saved === undefined
      ? RolloutRun.start(plan, job.rollout, ports)
      : RolloutRun.resume(saved, ports);
  holder.run = run;
  const watch = watchRollout(job, deps, run, takeLock, stop.signal);
  let outcome: RolloutOutcome;
  try {
    deps.active.add(run);
    outcome = await run.run();
  } finally {
    deps.active.delete(run);
    stop.abort();
    await watch;
  }
  if (!outcome.suspended) {
    await finished(job, deps, outcome.state);
    return { kind: 'finished' };
  }
  const reason = outcome.reason ?? 'it was suspended';
  if (outcome.cause === 'store' && attempt.attempt >= attempt.attempts) {
    await abandon(job, deps, outcome.state, `${reason} (after ${attempt.attempts} attempts)`);
    return { kind: 'finished' };
  }
  return leftForLater(job, deps, attempt, reason);
}

/** Said in the audit (as far as it can be stored), and left to the job's next attempt. */
async function leftForLater(
  job: RolloutJob,
  deps: WorkerDeps,
  attempt: JobAttempt,
  reason: string,
): Promise<JobOutcome> {
  await deps.audit
    .append(
      auditEntry('rollout.suspended', {
        at: deps.clock.now(),
        actor: deps.worker,
        target: targetOf(job),
        detail: { rollout: job.rollout, why: reason, ...attempt },
      }),
    )
    .catch(() => undefined);
  return { kind: 'suspended', reason };
}

/** The bookkeeping, then the update that tells followers it is all done. */
async function finished(job: RolloutJob, deps: WorkerDeps, state: RolloutState): Promise<void> {
  await finishRollout(job, deps, state, state.status);
  await deps.rollouts.append(job.rollout, {
    kind: 'finished',
    status: state.status,
    at: deps.clock.now(),
    worker: deps.worker,
  });
}

/**
 * The last attempt failed before its run could even start or suspend (its store failed): the
 * rollout still ends in a stated state, where its checkpoint left it.
 */
export async function giveUpJob(job: RolloutJob, deps: WorkerDeps, why: string): Promise<void> {
  const saved = await deps.rollouts.load(job.rollout);
  if (saved !== undefined && isTerminal(saved.status)) return finished(job, deps, saved);
  // Never started, the rollout ends as it stood: every group pending, no host touched.
  const from = saved ?? startRollout(job.plan, job.rollout, deps.clock.now()).state;
  await abandon(job, deps, from, why);
}

/**
 * Rollouts whose jobs used up their attempts while their store kept failing (for longer than the
 * attempts last), and whose end was never recorded: their jobs get a fresh set of attempts, so
 * they resume once the store is back. A worker does this when it starts, and now and then.
 */
export async function retryStalledRollouts(deps: WorkerDeps): Promise<string[]> {
  const retried: string[] = [];
  for (const job of await deps.queue.failed()) {
    if (await deps.history.recorded(targetOf(job), job.rollout)) continue;
    await deps.queue.retry(job.rollout);
    retried.push(job.rollout);
  }
  return retried;
}

/** The last attempt could not go on: the rollout ends where it is, for a person to look at. */
async function abandon(
  job: RolloutJob,
  deps: WorkerDeps,
  last: RolloutState,
  why: string,
): Promise<void> {
  const state = giveUp(last, why, deps.clock.now());
  await deps.rollouts.save(state);
  await deps.audit.append(
    auditEntry('rollout.gave_up', {
      at: deps.clock.now(),
      actor: deps.worker,
      target: targetOf(job),
      detail: { rollout: job.rollout, why },
    }),
  );
  await finished(job, deps, state);
}
