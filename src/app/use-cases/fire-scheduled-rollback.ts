import { needsApproval, openApproval, requesterOf, type Actor } from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import { planRollout } from '../../core/rollout/index.js';
import { readInventories } from '../inventory.js';
import { auditEntry } from '../audit.js';
import { rollbackVersion, runningVersion } from '../history.js';
import type { ScheduledRollback } from '../jobs.js';
import { OPEN_SCHEDULE, type ScheduleRecord } from '../schedule-ports.js';
import { resolveTarget } from './authorize.js';
import type { UseCaseDeps } from './deps.js';
import { launchedAlready } from './decide-approval.js';
import { launch } from './launch.js';
import { approvalMessageKey } from './request-rollout.js';

export type FireOutcome =
  { started: string } | { awaitingApproval: string } | { skipped: string } | { nothing: string };

/** The record of a rollback whose timer went off, adopting one armed without a record. */
async function recordOf(
  deps: UseCaseDeps,
  due: ScheduledRollback,
  worker: string,
): Promise<ScheduleRecord | undefined> {
  const known = await deps.schedules.get(due.id);
  if (known !== undefined) return known;
  const created = await deps.schedules.create(due, {
    replace: false,
    at: deps.clock.now(),
    by: worker,
  });
  return created.ok ? deps.schedules.get(due.id) : undefined;
}

/**
 * Turns a due scheduled rollback into a rollout, like any rollout: planned from the playbook of
 * today, asking for approval where the environment requires it, and skipped (saying why on its
 * message and in the audit log) when it cannot run. What it starts is fixed when it is first
 * taken, so a worker that dies while firing leaves a retry that starts the same thing.
 */
export async function fireScheduledRollback(
  deps: UseCaseDeps,
  due: ScheduledRollback,
  worker: string,
): Promise<FireOutcome> {
  let record = await recordOf(deps, due, worker);
  if (record === undefined) return { nothing: 'another rollback is open for the target' };
  if (!OPEN_SCHEDULE.includes(record.status)) return { nothing: `it was ${record.status}` };
  if (record.firing === undefined) {
    record =
      (await deps.schedules.transition(record.id, ['pending'], {
        status: 'firing',
        firing: { rollout: deps.newId(), lockToken: deps.newId(), approval: deps.newId() },
      })) ?? (await deps.schedules.get(record.id));
    if (record?.status !== 'firing' || record.firing === undefined)
      return { nothing: `it was ${record?.status ?? 'removed'} meanwhile` };
  }
  const { firing } = record;
  const target = { service: record.service, environment: record.environment };
  const now = deps.clock.now();
  const scheduler: Actor = { userId: worker, groups: [] };
  const skip = async (why: string): Promise<FireOutcome> => {
    await deps.schedules.transition(record.id, ['firing'], {
      status: 'skipped',
      settled: { by: worker, at: now, why },
    });
    await deps.audit.append(
      auditEntry('schedule.skipped', {
        at: now,
        actor: worker,
        target,
        detail: { schedule: record.id, why },
      }),
    );
    return { skipped: why };
  };
  const resolved = await resolveTarget(deps, record.service, record.environment);
  if ('ok' in resolved) return skip(resolved.message);
  const entries = await deps.history.list(target, 50);
  const version = record.version ?? rollbackVersion(entries);
  if (version === null) return skip('no earlier good version to roll back to');
  const inventories = await readInventories(
    deps.inventory,
    resolved.playbook,
    resolved.environment,
  );
  if (!inventories.ok) return skip(escape(inventories.message));
  const planned = planRollout(
    inventories.playbook,
    {
      kind: 'rollback',
      service: record.service,
      environment: record.environment,
      version,
      previousVersion: runningVersion(entries),
    },
    now,
  );
  if (!planned.ok) return skip(escape(planned.error.message));
  const fired = async (what: { rollout: string } | { approval: string }) => {
    await deps.schedules.transition(record.id, ['firing'], { status: 'fired' });
    await deps.audit.append(
      auditEntry('schedule.fired', {
        at: now,
        actor: worker,
        target,
        detail: { schedule: record.id, version, due: record.runAt, ...what },
      }),
    );
  };
  // A rollback asked for in chat obeys the same approval rules when it fires as any rollout.
  if (record.channel !== undefined && needsApproval(resolved.environment)) {
    await deps.outbox.add({
      key: approvalMessageKey(firing.approval),
      to: { kind: 'channel', channel: record.channel },
      view: { kind: 'approval', approval: firing.approval },
      createdAt: now,
    });
    await deps.requests.open({
      id: firing.approval,
      plan: planned.plan,
      channel: record.channel,
      request: openApproval(resolved.environment, requesterOf(record.requestedBy), now),
      schedule: record.id,
    });
    await fired({ approval: firing.approval });
    return { awaitingApproval: firing.approval };
  }
  // Fired before, and only its record was lost: the rollout is under way or done.
  if (await launchedAlready(deps, firing.rollout)) {
    await fired({ rollout: firing.rollout });
    return { started: firing.rollout };
  }
  const holder = await deps.locks.get(target);
  if (holder !== undefined && holder.token !== firing.lockToken)
    return skip(`locked by ${holder.owner}: ${holder.reason}`);
  const started = await launch(deps, {
    plan: planned.plan,
    rollout: firing.rollout,
    lockToken: firing.lockToken,
    requestedBy: `${requesterOf(record.requestedBy)} (scheduled)`,
    actor: scheduler,
    ...(record.channel === undefined ? {} : { origin: { channel: record.channel } }),
  });
  if (!started.ok) return skip('the service was locked as it fired');
  await fired({ rollout: firing.rollout });
  return { started: firing.rollout };
}
