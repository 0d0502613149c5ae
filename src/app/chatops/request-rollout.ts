import { needsApproval, openApproval } from '../../core/policy/index.js';
import { formatSeconds } from '../../core/duration.js';
import { escape } from '../../core/report/block-kit.js';
import { approvalMessage, slackDate, textMessage, who } from '../../core/report/chat-messages.js';
import { describePlan, planRollout, type Plan } from '../../core/rollout/index.js';
import { rollbackVersion, runningVersion } from '../history.js';
import { QUEUED_LOCK_MS, type LockHolder, type Target } from '../store-ports.js';
import type { ChatOpsDeps, Interaction } from './deps.js';
import { deployerTarget } from './targets.js';
import type { PendingRollout } from './ports.js';

export type Outcome =
  | { ok: true; text: string; /** Shown preformatted (a plan). */ lines?: string[] }
  | { ok: false; text: string };

const fail = (text: string): Outcome => ({ ok: false, text });

export function describeLock(target: Target, holder: LockHolder, now: number): string {
  const stop =
    holder.rollout === undefined
      ? `/deploy unlock ${target.service} to ${target.environment}`
      : `/deploy cancel ${target.service} to ${target.environment}`;
  return `${target.service} in ${target.environment} is locked by ${who(holder.owner)} since ${slackDate(holder.since)} (${formatSeconds(Math.max(1000, now - holder.since))} ago): ${escape(holder.reason)}. To stop it: \`${stop}\``;
}

export interface RolloutAsk {
  kind: 'deploy' | 'rollback' | 'restart';
  service: string;
  /** Absent for a restart (the running version) or a rollback (the previous good one). */
  version?: string;
  environment?: string;
  dryRun?: boolean;
  rollbackAfterMs?: number;
}

/**
 * `/deploy`, `/deploy rollback`, `/deploy restart` and the Roll back button: checks who asks and
 * what, then asks for approval or starts the rollout. Nothing starts unless every check passed.
 */
export async function requestRollout(
  deps: ChatOpsDeps,
  ask: RolloutAsk,
  from: Interaction,
): Promise<Outcome> {
  const resolved = await deployerTarget(deps, ask.service, ask.environment, from.user, {
    action: `${ask.kind}.refused`,
    detail: { version: ask.version },
  });
  if (typeof resolved === 'string') return fail(resolved);
  const { playbook, environment, target } = resolved;
  const now = deps.clock.now();
  const entries = await deps.history.list(target, 50);
  const running = runningVersion(entries);
  const version =
    ask.version ?? (ask.kind === 'restart' ? running : rollbackVersion(entries)) ?? undefined;
  if (version === undefined)
    return fail(
      ask.kind === 'restart'
        ? `No deploy of ${ask.service} in ${environment.name} is recorded, so there is no running version to restart. Deploy one first: \`/deploy ${ask.service} <version> to ${environment.name}\``
        : `There is no earlier good version of ${ask.service} in ${environment.name} to roll back to. Name one: \`/deploy rollback ${ask.service} <version> to ${environment.name}\``,
    );
  const planned = planRollout(
    playbook,
    {
      kind: ask.kind,
      service: ask.service,
      environment: environment.name,
      version,
      previousVersion: running,
    },
    now,
  );
  if (!planned.ok) return fail(planned.error.message);
  const plan = planned.plan;
  if (ask.dryRun === true)
    return {
      ok: true,
      text: 'Dry run: nothing was started.',
      lines: describePlan(plan).split('\n'),
    };
  const holder = await deps.locks.get(target);
  if (holder !== undefined) return fail(describeLock(target, holder, now));
  if (needsApproval(environment)) {
    const pending: PendingRollout = {
      id: deps.newId(),
      plan,
      channel: from.channel,
      request: openApproval(environment, from.user, now),
      ...(ask.rollbackAfterMs === undefined ? {} : { rollbackAfterMs: ask.rollbackAfterMs }),
    };
    const posted = await deps.chat.post(from.channel, approvalMessage(pending));
    await deps.store.savePending({ ...pending, messageTs: posted.ts });
    await deps.audit.append({
      at: now,
      actor: from.user,
      action: 'approval.requested',
      target,
      detail: { approval: pending.id, version: plan.version, kind: plan.kind },
    });
    return { ok: true, text: 'Waiting for approval: the request is in the channel.' };
  }
  return launch(deps, plan, from.user, from.channel, ask.rollbackAfterMs);
}

/**
 * Takes the lock and queues the rollout; some `serve` process then posts its live message in
 * `channel`. The lock is taken first, so a rollout that cannot run is never queued.
 */
export async function launch(
  deps: ChatOpsDeps,
  plan: Plan,
  by: string,
  channel: string,
  rollbackAfterMs?: number,
): Promise<Outcome> {
  const target = { service: plan.service, environment: plan.environment };
  const now = deps.clock.now();
  const rollout = deps.newId();
  const lockToken = deps.newId();
  const lock = await deps.locks.acquire(
    target,
    { token: lockToken, owner: by, reason: `${plan.kind} ${plan.version}`, since: now, rollout },
    QUEUED_LOCK_MS,
  );
  if (!lock.ok) {
    await deps.audit.append({
      at: now,
      actor: by,
      action: `${plan.kind}.refused`,
      target,
      detail: { why: 'locked', version: plan.version, lockedBy: lock.holder.owner },
    });
    return fail(describeLock(target, lock.holder, now));
  }
  await deps.audit.append({
    at: now,
    actor: by,
    action: `${plan.kind}.requested`,
    target,
    detail: { rollout, version: plan.version },
  });
  // The message first: if it cannot be posted (baton not in the channel), nothing starts.
  let posted;
  try {
    posted = await deps.chat.post(
      channel,
      textMessage(
        `${plan.kind} ${escape(plan.service)} \`${escape(plan.version)}\` to ${escape(plan.environment)}: queued, starting when a worker takes it.`,
      ),
    );
  } catch (error) {
    await deps.locks.release(target, lockToken);
    return fail(`Nothing was started: ${(error as Error).message}`);
  }
  await deps.store.report({ rollout, channel, ts: posted.ts, requestedBy: by });
  await deps.queue.add({
    rollout,
    plan,
    requestedBy: by,
    lockToken,
    channel,
    ...(rollbackAfterMs === undefined ? {} : { rollbackAfterMs }),
  });
  return {
    ok: true,
    text: `Started: ${plan.kind} ${plan.service} ${plan.version} to ${plan.environment}.`,
  };
}
