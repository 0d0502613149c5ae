import { canStopSchedule, requesterOf } from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import { slackDate, who as mention } from '../../core/report/chat-messages.js';
import { versionProblem } from '../../core/rollout/index.js';
import { auditEntry } from '../audit.js';
import { rollbackVersion } from '../history.js';
import { keepId, scheduledRollbackId, type RolloutJob, type ScheduledRollback } from '../jobs.js';
import type { ScheduleRecord } from '../schedule-ports.js';
import type { Target } from '../target.js';
import {
  actorFor,
  auditRefusal,
  command,
  refuseUnlessDeployer,
  resolveTarget,
} from './authorize.js';
import type { ChatOrigin, Principal, UseCaseDeps } from './deps.js';
import { rolloutMessageKey } from './launch.js';
import { refusal, type Outcome } from './outcome.js';

/** The key of a scheduled rollback's message in the outbox. */
export const scheduleMessageKey = (id: string): string => `schedule:${id}`;

const when = (at: number, operator: boolean) =>
  operator ? new Date(at).toISOString() : slackDate(at);

/** Schedules a rollback at `runAt`: to `version`, or to the previous good version when it fires. */
export async function scheduleRollback(
  deps: UseCaseDeps,
  who: Principal,
  ask: { service: string; environment?: string; version?: string; runAt: number },
  origin?: ChatOrigin,
): Promise<Outcome<'scheduled', { schedule: ScheduleRecord }>> {
  const actor = await actorFor(deps, who);
  const resolved = await resolveTarget(deps, ask.service, ask.environment);
  if ('ok' in resolved) return resolved;
  const denied = await refuseUnlessDeployer(deps, actor, resolved, 'schedule.refused');
  if (denied !== undefined) return denied;
  const { playbook, environment, target } = resolved;
  const now = deps.clock.now();
  const problem = ask.version === undefined ? undefined : versionProblem(playbook, ask.version);
  if (problem !== undefined) return refusal('version_mismatch', escape(problem));
  // Without a version it goes to the previous good one, worked out when it fires; if there is
  // none even now, say so now rather than have it skipped later.
  if (ask.version === undefined && rollbackVersion(await deps.history.list(target, 50)) === null)
    return refusal(
      'no_rollback_version',
      `There is no earlier good version of ${escape(ask.service)} in ${escape(environment.name)} to roll back to.`,
      `Name one: \`${command(actor, `rollback ${ask.service} <version>`, target)} …\``,
    );
  const rollback: ScheduledRollback = {
    id: scheduledRollbackId(target, deps.newId()),
    ...target,
    ...(ask.version === undefined ? {} : { version: ask.version }),
    runAt: ask.runAt,
    requestedBy: actor.userId,
    reason: 'scheduled',
    ...(origin === undefined ? {} : { channel: origin.channel }),
  };
  // The timer first: a record is never without one (a timer without a record adopts one).
  await deps.queue.schedule(rollback, now);
  const created = await deps.schedules.create(rollback, {
    replace: false,
    at: now,
    by: actor.userId,
  });
  if (!created.ok) {
    await deps.queue.unschedule(rollback.id);
    const { existing } = created;
    return auditRefusal(
      deps,
      actor,
      'schedule.refused',
      target,
      refusal(
        'already_scheduled',
        `A rollback of ${escape(target.service)} in ${escape(target.environment)} is already scheduled ${when(existing.runAt, actor.kind === 'operator')} (asked by ${mention(existing.requestedBy)}; id ${existing.id}). Two would each roll back from what the other left, so this one was not added.`,
        existing.reason === 'rollback-after'
          ? 'Keep or cancel that one first (its Keep button, or `baton keep`).'
          : `Cancel that one first (its Cancel button, or \`baton schedules --cancel ${existing.id}\`), then schedule again.`,
      ),
      { schedule: existing.id },
    );
  }
  if (origin !== undefined)
    await deps.outbox.add({
      key: scheduleMessageKey(rollback.id),
      to: {
        kind: 'channel',
        channel: origin.channel,
        ...(origin.replyUrl === undefined ? {} : { replyUrl: origin.replyUrl }),
      },
      view: { kind: 'schedule', schedule: rollback.id },
      createdAt: now,
    });
  await deps.audit.append(
    auditEntry('schedule.created', {
      at: now,
      actor: actor.userId,
      target,
      detail: {
        schedule: rollback.id,
        runAt: rollback.runAt,
        reason: 'scheduled',
        ...(ask.version === undefined ? {} : { version: ask.version }),
      },
    }),
  );
  const record = (await deps.schedules.get(rollback.id)) ?? { ...rollback, status: 'pending' };
  return {
    ok: true,
    code: 'scheduled',
    schedule: record,
    message: `Scheduled: roll ${escape(target.service)} in ${escape(target.environment)} back to ${ask.version === undefined ? 'the previous good version' : `\`${escape(ask.version)}\``} ${when(rollback.runAt, actor.kind === 'operator')}.`,
  };
}

/**
 * The dead-man switch of a `--rollback-after` deploy that succeeded: a rollback to the version it
 * replaced, unless someone keeps it. It replaces any rollback scheduled before for the target
 * (that one was about what ran before this deploy). Arming it again adds nothing.
 */
export async function armDeadMan(
  deps: Pick<UseCaseDeps, 'schedules' | 'queue' | 'outbox' | 'audit' | 'clock'>,
  job: RolloutJob & { rollbackAfterMs: number; plan: { previousVersion: string } },
  actor: string,
): Promise<void> {
  const target: Target = { service: job.plan.service, environment: job.plan.environment };
  const now = deps.clock.now();
  const rollback: ScheduledRollback = {
    id: keepId(job.rollout),
    ...target,
    version: job.plan.previousVersion,
    runAt: now + job.rollbackAfterMs,
    requestedBy: job.requestedBy,
    reason: 'rollback-after',
    rollout: job.rollout,
    ...(job.channel === undefined ? {} : { channel: job.channel }),
  };
  const known = await deps.schedules.get(rollback.id);
  if (known !== undefined) return;
  await deps.queue.schedule(rollback, now);
  const created = await deps.schedules.create(rollback, { replace: true, at: now, by: actor });
  if (!created.ok) return;
  for (const replaced of created.replaced) {
    await deps.queue.unschedule(replaced.id);
    await deps.audit.append(
      auditEntry('schedule.replaced', {
        at: now,
        actor,
        target,
        detail: { schedule: replaced.id, by: rollback.id },
      }),
    );
  }
  if (!created.added) return;
  if (job.channel !== undefined)
    await deps.outbox.add({
      key: scheduleMessageKey(rollback.id),
      to: { kind: 'channel', channel: job.channel, thread: rolloutMessageKey(job.rollout) },
      view: { kind: 'schedule', schedule: rollback.id },
      createdAt: now,
    });
  await deps.audit.append(
    auditEntry('schedule.created', {
      at: now,
      actor,
      target,
      detail: {
        schedule: rollback.id,
        runAt: rollback.runAt,
        version: rollback.version,
        reason: 'rollback-after',
      },
    }),
  );
}

const SETTLED_WORDS: Record<ScheduleRecord['status'], string> = {
  pending: 'is pending',
  firing: 'has started firing',
  fired: 'has fired',
  skipped: 'did not run when it was due',
  cancelled: 'was cancelled',
  kept: 'was kept',
  replaced: 'was replaced by a later deploy’s',
};

/**
 * Cancel (or, for a dead-man switch, keep) a scheduled rollback: its requester or a deployer of
 * its target may. It is cancelled or it fires, never both: whichever comes first wins.
 */
export async function stopSchedule(
  deps: UseCaseDeps,
  who: Principal,
  request: { schedule: string; as: 'cancelled' | 'kept' },
): Promise<Outcome<'schedule_stopped', { schedule: ScheduleRecord }>> {
  const actor = await actorFor(deps, who);
  const record = await deps.schedules.get(request.schedule);
  if (record === undefined)
    return refusal(
      'unknown_schedule',
      `No scheduled rollback '${escape(request.schedule)}' is known to baton.`,
      `\`${command(actor, 'schedules')}\` lists the pending ones.`,
    );
  const target: Target = { service: record.service, environment: record.environment };
  const refusedAction = request.as === 'kept' ? 'schedule.keep_refused' : 'schedule.cancel_refused';
  const resolved = await resolveTarget(deps, record.service, record.environment);
  // With its playbook gone, its requester (or an operator) can still stop it.
  const allowed =
    'ok' in resolved
      ? requesterOf(record.requestedBy) === actor.userId || actor.kind === 'operator'
        ? ({ allowed: true } as const)
        : ({ allowed: false, reason: resolved.message } as const)
      : canStopSchedule(record, resolved.environment, actor);
  if (!allowed.allowed)
    return auditRefusal(
      deps,
      actor,
      refusedAction,
      target,
      refusal('not_deployer', allowed.reason),
      { schedule: record.id },
    );
  const now = deps.clock.now();
  const stopped = await deps.schedules.transition(record.id, ['pending'], {
    status: request.as,
    settled: { by: actor.userId, at: now },
  });
  if (stopped === undefined) {
    const now_ = (await deps.schedules.get(record.id)) ?? record;
    return refusal(
      'schedule_settled',
      `This rollback is no longer scheduled: it ${SETTLED_WORDS[now_.status]}${now_.settled === undefined || now_.status === 'skipped' ? '' : ` (by ${mention(now_.settled.by)})`}.`,
    );
  }
  // Disarming the timer is tidiness: a timer that fires finds the rollback stopped.
  await deps.queue.unschedule(record.id).catch(() => undefined);
  await deps.audit.append(
    auditEntry(request.as === 'kept' ? 'schedule.kept' : 'schedule.cancelled', {
      at: now,
      actor: actor.userId,
      target,
      detail: { schedule: record.id },
    }),
  );
  return {
    ok: true,
    code: 'schedule_stopped',
    schedule: stopped,
    message: `${request.as === 'kept' ? 'Kept' : 'Cancelled'}: ${escape(record.service)} in ${escape(record.environment)} will not be rolled back ${when(record.runAt, actor.kind === 'operator')}.`,
  };
}

/** `keep <service>`: keeps what a --rollback-after deploy put in place there. */
export async function keepTarget(
  deps: UseCaseDeps,
  who: Principal,
  ask: { service: string; environment?: string },
): Promise<Outcome<'schedule_stopped', { schedule: ScheduleRecord }>> {
  const resolved = await resolveTarget(deps, ask.service, ask.environment);
  if ('ok' in resolved) return resolved;
  const { target } = resolved;
  const deadMan = (await deps.schedules.open()).find(
    (item) =>
      item.reason === 'rollback-after' &&
      item.status === 'pending' &&
      item.service === target.service &&
      item.environment === target.environment,
  );
  if (deadMan === undefined)
    return refusal(
      'nothing_to_keep',
      `No --rollback-after rollback is pending for ${escape(target.service)} in ${escape(target.environment)}.`,
    );
  return stopSchedule(deps, who, { schedule: deadMan.id, as: 'kept' });
}
