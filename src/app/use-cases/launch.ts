import type { Actor } from '../../core/policy/index.js';
import { formatSeconds } from '../../core/duration.js';
import { escape } from '../../core/report/block-kit.js';
import { slackDate, who } from '../../core/report/chat-messages.js';
import type { Plan } from '../../core/rollout/index.js';
import { auditEntry } from '../audit.js';
import { QUEUED_LOCK_MS, type LockHolder } from '../store-ports.js';
import type { Target } from '../target.js';
import { command } from './authorize.js';
import type { ChatOrigin, UseCaseDeps } from './deps.js';
import { refusal, type Outcome, type Refusal } from './outcome.js';

/** The key of a rollout's live message in the outbox. */
export const rolloutMessageKey = (rollout: string): string => `rollout:${rollout}`;

/** Why a target is locked, who holds it since when, and what would stop it. */
export function lockedRefusal(
  actor: Actor,
  target: Target,
  holder: LockHolder,
  now: number,
): Refusal {
  const stop =
    holder.rollout === undefined
      ? command(actor, `unlock ${target.service}`, target)
      : command(actor, `cancel ${target.service}`, target);
  const since = `${actor.kind === 'operator' ? new Date(holder.since).toISOString() : slackDate(holder.since)} (${formatSeconds(Math.max(1000, now - holder.since))} ago)`;
  return refusal(
    'locked',
    `${escape(target.service)} in ${escape(target.environment)} is locked by ${who(holder.owner)} since ${since}: ${escape(holder.reason)}.`,
    `To stop it: \`${stop}\``,
  );
}

export interface LaunchRequest {
  plan: Plan;
  /** Fixed by the caller, so that launching again (after a crash) starts this same rollout. */
  rollout: string;
  lockToken: string;
  /** Who the rollout is for, as history records it. */
  requestedBy: string;
  /** Who is acting (the requester, an approver's decision, the scheduler). */
  actor: Actor;
  origin?: ChatOrigin;
  rollbackAfterMs?: number;
  /** An operator confirmed an environment that requires approval. */
  confirmed?: true;
}

/**
 * Takes the target's lock and queues the rollout, with its live message where it was asked for.
 * The lock comes first, so a rollout that may not run is never queued; doing it all again with
 * the same ids adds nothing, so an interrupted launch can simply be done again.
 */
export async function launch(
  deps: UseCaseDeps,
  request: LaunchRequest,
): Promise<Outcome<'started', { rollout: string }>> {
  const { plan, rollout, lockToken, actor } = request;
  const target = { service: plan.service, environment: plan.environment };
  const now = deps.clock.now();
  const lock = await deps.locks.acquire(
    target,
    {
      token: lockToken,
      owner: request.requestedBy,
      reason: `${plan.kind} ${plan.version}`,
      since: now,
      rollout,
    },
    QUEUED_LOCK_MS,
  );
  if (!lock.ok) {
    await deps.audit.append(
      auditEntry(`${plan.kind}.refused`, {
        at: now,
        actor: actor.userId,
        target,
        detail: { why: 'locked', version: plan.version, lockedBy: lock.holder.owner },
      }),
    );
    return lockedRefusal(actor, target, lock.holder, now);
  }
  try {
    if (request.origin !== undefined)
      await deps.outbox.add({
        key: rolloutMessageKey(rollout),
        to: {
          kind: 'channel',
          channel: request.origin.channel,
          ...(request.origin.replyUrl === undefined ? {} : { replyUrl: request.origin.replyUrl }),
        },
        view: { kind: 'rollout', rollout, requestedBy: request.requestedBy },
        createdAt: now,
      });
    await deps.queue.add({
      rollout,
      plan,
      requestedBy: request.requestedBy,
      lockToken,
      ...(request.origin === undefined ? {} : { channel: request.origin.channel }),
      ...(request.rollbackAfterMs === undefined
        ? {}
        : { rollbackAfterMs: request.rollbackAfterMs }),
    });
  } catch (error) {
    // Not queued: nothing holds the target for it. Launching again takes the lock again.
    await deps.locks.release(target, lockToken).catch(() => undefined);
    throw error;
  }
  await deps.audit.append(
    auditEntry(`${plan.kind}.requested`, {
      at: now,
      actor: actor.userId,
      target,
      detail: {
        rollout,
        version: plan.version,
        ...(request.confirmed === undefined ? {} : { confirmed: true as const }),
      },
    }),
  );
  return {
    ok: true,
    code: 'started',
    rollout,
    message: `Started: ${plan.kind} ${escape(plan.service)} \`${escape(plan.version)}\` to ${escape(plan.environment)}.`,
  };
}
