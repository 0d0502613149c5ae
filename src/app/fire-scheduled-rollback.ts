import type { RolloutJob, ScheduledRollback } from '../adapters/queue/rollout-jobs.js';
import type { Playbook } from '../core/playbook/index.js';
import { needsApproval, openApproval } from '../core/policy/index.js';
import { planRollout } from '../core/rollout/index.js';
import type { ChannelNotice, PendingRollout } from './chatops/ports.js';
import { rollbackVersion, runningVersion } from './history.js';
import type { Clock } from './ports.js';
import { QUEUED_LOCK_MS, type AuditLog, type HistoryStore, type LockStore } from './store-ports.js';

export interface SchedulerDeps {
  worker: string;
  /** Playbooks as they are when the rollback fires, not when it was scheduled. */
  playbook(service: string): Promise<Playbook | undefined>;
  history: HistoryStore;
  locks: LockStore;
  audit: AuditLog;
  clock: Clock;
  enqueue(job: RolloutJob): Promise<void>;
  /**
   * Asks for approval in Slack, where the environment requires it: a rollback asked for in Slack
   * obeys the same approval rules when it fires as any rollout.
   */
  askApproval?(pending: PendingRollout): Promise<void>;
  /** Tells the channel a rollback asked for there did not run, and why. */
  notify?(notice: ChannelNotice): Promise<void>;
  /** Hands a rollout asked for in Slack to whoever keeps its live message there. */
  announce?(rollout: string, rollback: ScheduledRollback & { channel: string }): Promise<void>;
  newId(): string;
}

export type FireOutcome = { started: string } | { awaitingApproval: string } | { skipped: string };

/**
 * Turns a due scheduled rollback into a rollout job, like any rollout: it takes the lock (or is
 * skipped, and says why, when someone holds it) and is planned from the playbook of today.
 */
export async function fireScheduledRollback(
  rollback: ScheduledRollback,
  deps: SchedulerDeps,
): Promise<FireOutcome> {
  const target = { service: rollback.service, environment: rollback.environment };
  const now = deps.clock.now();
  const { channel, ...view } = rollback;
  const skip = async (why: string): Promise<FireOutcome> => {
    await deps.audit.append({
      at: now,
      actor: deps.worker,
      action: 'schedule.skipped',
      target,
      detail: { schedule: rollback.id, why },
    });
    // A rollback someone counted on must not fail in silence.
    if (channel !== undefined)
      await deps.notify?.({
        channel,
        text: `The scheduled rollback of ${rollback.service} in ${rollback.environment} did not run: ${why}.`,
        schedule: view,
      });
    return { skipped: why };
  };
  const playbook = await deps.playbook(rollback.service);
  if (playbook === undefined) return skip(`no valid playbook for ${rollback.service}`);
  const entries = await deps.history.list(target, 50);
  const version = rollback.version ?? rollbackVersion(entries);
  if (version === null) return skip('no earlier good version to roll back to');
  const planned = planRollout(
    playbook,
    {
      kind: 'rollback',
      service: rollback.service,
      environment: rollback.environment,
      version,
      previousVersion: runningVersion(entries),
    },
    now,
  );
  if (!planned.ok) return skip(planned.error.message);
  const environment = playbook.environments.find((item) => item.name === rollback.environment);
  if (
    channel !== undefined &&
    deps.askApproval !== undefined &&
    environment !== undefined &&
    needsApproval(environment)
  ) {
    const pending: PendingRollout = {
      id: deps.newId(),
      plan: planned.plan,
      channel,
      request: openApproval(environment, rollback.requestedBy, now),
      schedule: view,
    };
    await deps.askApproval(pending);
    await deps.audit.append({
      at: now,
      actor: deps.worker,
      action: 'schedule.fired',
      target,
      detail: { schedule: rollback.id, approval: pending.id, version, due: rollback.runAt },
    });
    return { awaitingApproval: pending.id };
  }
  const rollout = deps.newId();
  const token = deps.newId();
  const requestedBy = `${rollback.requestedBy} (scheduled)`;
  const lock = await deps.locks.acquire(
    target,
    { token, owner: requestedBy, reason: `rollback to ${version}`, since: now, rollout },
    QUEUED_LOCK_MS,
  );
  if (!lock.ok) return skip(`locked by ${lock.holder.owner}: ${lock.holder.reason}`);
  if (channel !== undefined) await deps.announce?.(rollout, { ...rollback, channel });
  await deps.enqueue({
    rollout,
    plan: planned.plan,
    requestedBy,
    lockToken: token,
    ...(channel === undefined ? {} : { channel }),
  });
  await deps.audit.append({
    at: now,
    actor: deps.worker,
    action: 'schedule.fired',
    target,
    detail: { schedule: rollback.id, rollout, version, due: rollback.runAt },
  });
  return { started: rollout };
}
