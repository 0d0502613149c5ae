import { formatDuration } from '../../core/duration.js';
import { escape } from '../../core/report/block-kit.js';
import { who as mention } from '../../core/report/chat-messages.js';
import { auditEntry } from '../audit.js';
import type { LockHolder } from '../store-ports.js';
import type { Target } from '../target.js';
import {
  actorFor,
  auditRefusal,
  command,
  refuseUnlessDeployer,
  resolveTarget,
} from './authorize.js';
import type { Principal, UseCaseDeps } from './deps.js';
import { lockedRefusal } from './launch.js';
import { refusal, type Outcome } from './outcome.js';

/** Nobody deploys the target until it is unlocked or the lock lapses. */
export async function lockTarget(
  deps: UseCaseDeps,
  who: Principal,
  ask: { service: string; environment?: string; reason?: string; ttlMs: number },
): Promise<Outcome<'locked', { target: Target; reason: string }>> {
  const actor = await actorFor(deps, who);
  const resolved = await resolveTarget(deps, ask.service, ask.environment);
  if ('ok' in resolved) return resolved;
  const denied = await refuseUnlessDeployer(deps, actor, resolved, 'lock.refused');
  if (denied !== undefined) return denied;
  const { target } = resolved;
  const now = deps.clock.now();
  const reason = ask.reason ?? (actor.kind === 'operator' ? 'locked by hand' : 'locked in Slack');
  const taken = await deps.locks.acquire(
    target,
    { token: deps.newId(), owner: actor.userId, reason, since: now },
    ask.ttlMs,
  );
  if (!taken.ok)
    return auditRefusal(
      deps,
      actor,
      'lock.refused',
      target,
      lockedRefusal(actor, target, taken.holder, now),
      { lockedBy: taken.holder.owner },
    );
  await deps.audit.append(
    auditEntry('lock.taken', {
      at: now,
      actor: actor.userId,
      target,
      detail: { reason, ttlMs: ask.ttlMs },
    }),
  );
  return {
    ok: true,
    code: 'locked',
    target,
    reason,
    message: `🔒 ${mention(actor.userId)} locked ${escape(target.service)} in ${escape(target.environment)} for ${formatDuration(ask.ttlMs)}: ${escape(reason)}. Nobody deploys it until \`${command(actor, `unlock ${target.service}`, target)}\`.`,
  };
}

/**
 * What an unlock may take away besides the actor's own lock. In chat the channel sees who took
 * whose lock, so a person's lock may go; a rollout's never (cancel the rollout instead). At the
 * terminal, `--force` says both knowingly.
 */
export interface UnlockForce {
  othersLock: boolean;
  rolloutLock: boolean;
}

export async function unlockTarget(
  deps: UseCaseDeps,
  who: Principal,
  ask: { service: string; environment?: string; force: UnlockForce },
): Promise<Outcome<'unlocked' | 'not_locked', { target: Target; holder?: LockHolder }>> {
  const actor = await actorFor(deps, who);
  const resolved = await resolveTarget(deps, ask.service, ask.environment);
  if ('ok' in resolved) return resolved;
  const denied = await refuseUnlessDeployer(deps, actor, resolved, 'unlock.refused');
  if (denied !== undefined) return denied;
  const { target } = resolved;
  const where = `${escape(target.service)} in ${escape(target.environment)}`;
  const holder = await deps.locks.get(target);
  if (holder === undefined)
    return { ok: true, code: 'not_locked', target, message: `${where} is not locked.` };
  const forceHint =
    actor.kind === 'operator'
      ? 'To take the lock away anyway, add --force (it is recorded in the audit log).'
      : undefined;
  if (holder.rollout !== undefined && !ask.force.rolloutLock)
    return auditRefusal(
      deps,
      actor,
      'unlock.refused',
      target,
      refusal(
        'lock_held_by_rollout',
        `${where} is held by a running rollout; stop it with \`${command(actor, `cancel ${target.service}`, target)}\`.`,
        forceHint,
      ),
      { lockedBy: holder.owner, rollout: holder.rollout },
    );
  if (holder.owner !== actor.userId && !ask.force.othersLock)
    return auditRefusal(
      deps,
      actor,
      'unlock.refused',
      target,
      refusal('lock_held_by_other', `Not unlocked: it is ${mention(holder.owner)}'s.`, forceHint),
      { lockedBy: holder.owner },
    );
  // By its token: a lock someone took in the meantime stays.
  if (!(await deps.locks.release(target, holder.token)))
    return refusal(
      'lock_changed',
      `The lock on ${where} changed meanwhile.`,
      `Look again with \`${command(actor, 'status')}\`.`,
    );
  const forced = holder.owner !== actor.userId || holder.rollout !== undefined;
  await deps.audit.append(
    auditEntry('lock.released', {
      at: deps.clock.now(),
      actor: actor.userId,
      target,
      detail: { holder: holder.owner, reason: holder.reason, forced },
    }),
  );
  return {
    ok: true,
    code: 'unlocked',
    target,
    holder,
    message: `🔓 ${mention(actor.userId)} unlocked ${where}${forced ? ` (the lock was ${mention(holder.owner)}'s: ${escape(holder.reason)})` : ''}.`,
  };
}
