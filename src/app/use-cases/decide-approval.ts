import {
  decideApproval as decide,
  expireIfDue,
  type Actor,
  type ApprovalAction,
} from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import { plannedInventories, planRollout } from '../../core/rollout/index.js';
import { withInventories } from '../../core/playbook/index.js';
import type { Approval, LaunchResult } from '../approval-ports.js';
import { auditEntry } from '../audit.js';
import { runningVersion } from '../history.js';
import { actorFor, auditRefusal, resolveTarget } from './authorize.js';
import type { Principal, UseCaseDeps } from './deps.js';
import { launch } from './launch.js';
import { refusal, type Outcome } from './outcome.js';

/** How long an approved request may wait for its launch before any process completes it. */
export const LAUNCH_FOLLOW_UP_MS = 15_000;

export type ApprovalDecided = Outcome<
  'approved' | 'rejected' | 'withdrawn',
  { approval: string; launch?: LaunchResult }
>;

/**
 * Approve, reject or withdraw a request. An approval fixes the rollout it starts in the same
 * write, then launches it; if this process dies in between, any process completes the launch.
 */
export async function decideApproval(
  deps: UseCaseDeps,
  who: Principal,
  request: { approval: string; action: ApprovalAction },
): Promise<ApprovalDecided> {
  const actor = await actorFor(deps, who);
  const pending = await deps.requests.approval(request.approval);
  if (pending === undefined)
    return refusal(
      'unknown_request',
      'This request is no longer known to baton.',
      'Ask for the deploy again.',
    );
  const { plan } = pending;
  const resolved = await resolveTarget(deps, plan.service, plan.environment);
  if ('ok' in resolved) return resolved;
  const { environment, target } = resolved;
  const now = deps.clock.now();
  const result = decide(pending.request, environment, actor, request.action, now);
  if (!result.ok)
    return auditRefusal(
      deps,
      actor,
      `approval.${request.action}_refused`,
      target,
      refusal(result.code, result.message),
      { approval: pending.id },
    );
  const decided: Approval = {
    ...pending,
    request: result.request,
    ...(result.request.status === 'approved'
      ? { launch: { rollout: deps.newId(), lockToken: deps.newId() } }
      : {}),
  };
  if (!(await deps.requests.decide(pending.id, decided))) {
    const winner = await deps.requests.approval(pending.id);
    return refusal(
      'decided_meanwhile',
      `Someone was quicker: this request is already ${winner?.request.status ?? 'decided'}.`,
    );
  }
  const status = result.request.status as 'approved' | 'rejected' | 'withdrawn';
  await deps.audit.append(
    auditEntry(`approval.${status}`, {
      at: now,
      actor: actor.userId,
      target,
      detail: {
        approval: pending.id,
        version: plan.version,
        requestedBy: pending.request.requestedBy,
      },
    }),
  );
  const outcome = { ok: true as const, code: status, approval: pending.id };
  if (status !== 'approved') return { ...outcome, message: `Request ${status}.` };
  const launched = await completeApproval(deps, decided, actor);
  return {
    ...outcome,
    launch: launched,
    message: launched.started ? 'Approved: the rollout starts.' : launched.message,
  };
}

/**
 * Launches what an approved request fixed, planned again (the playbook or the running version
 * may have changed while it waited), and records what happened. Safe to do twice.
 */
export async function completeApproval(
  deps: UseCaseDeps,
  approval: Approval,
  actor: Actor,
): Promise<LaunchResult> {
  if (approval.launch === undefined) throw new Error(`request ${approval.id} was not approved`);
  if (approval.launch.result !== undefined) return approval.launch.result;
  const { plan } = approval;
  // Launched already, and only its record was lost: launching again would take the target's
  // lock for a rollout that has ended.
  if (await launchedAlready(deps, approval.launch.rollout)) {
    const result: LaunchResult = { started: true };
    await deps.requests.settleLaunch(approval.id, result);
    return result;
  }
  const target = { service: plan.service, environment: plan.environment };
  const resolved = await resolveTarget(deps, plan.service, plan.environment);
  let result: LaunchResult;
  if ('ok' in resolved) {
    result = { started: false, code: resolved.code, message: cannotStart(resolved.message) };
  } else {
    // The approved hosts of its inventories; the worker says what changed when it starts.
    const approved = withInventories(
      resolved.playbook,
      resolved.environment,
      plannedInventories(plan),
    );
    const fresh = !approved.ok
      ? {
          ok: false as const,
          error: { code: 'inventory_failed' as const, message: approved.message },
        }
      : planRollout(
          approved.playbook,
          {
            kind: plan.kind,
            service: plan.service,
            environment: plan.environment,
            version: plan.version,
            previousVersion: runningVersion(await deps.history.list(target, 50)),
            ...(plan.only === undefined ? {} : { only: plan.only }),
          },
          deps.clock.now(),
        );
    if (!fresh.ok) {
      result = {
        started: false,
        code: fresh.error.code,
        message: cannotStart(escape(fresh.error.message)),
      };
    } else {
      const started = await launch(deps, {
        plan: fresh.plan,
        rollout: approval.launch.rollout,
        lockToken: approval.launch.lockToken,
        requestedBy: approval.request.requestedBy,
        actor,
        origin: {
          channel: approval.channel,
          ...(approval.replyUrl === undefined ? {} : { replyUrl: approval.replyUrl }),
        },
        ...(approval.rollbackAfterMs === undefined
          ? {}
          : { rollbackAfterMs: approval.rollbackAfterMs }),
      });
      result = started.ok
        ? { started: true }
        : {
            started: false,
            code: started.code,
            message: cannotStart(`${started.message} ${started.hint ?? ''}`.trim()),
          };
    }
  }
  await deps.requests.settleLaunch(approval.id, result);
  return result;
}

const cannotStart = (why: string) => `Approved, but it cannot start: ${why}`;

/** Whether a rollout was queued: its job is known to the queue, or it has run (a checkpoint). */
export async function launchedAlready(deps: UseCaseDeps, rollout: string): Promise<boolean> {
  if ((await deps.queue.state(rollout)) !== 'unknown') return true;
  return (await deps.rollouts.load(rollout)) !== undefined;
}

/**
 * Housekeeping that any process may do at any time: requests past their time expire, and
 * approved requests whose launch was interrupted are launched.
 */
export async function expireAndFollowUp(
  deps: UseCaseDeps,
  warn: (message: string) => void,
): Promise<void> {
  const now = deps.clock.now();
  for (const pending of await deps.requests.pending()) {
    const request = expireIfDue(pending.request, now);
    if (request.status !== 'expired') continue;
    if (!(await deps.requests.decide(pending.id, { ...pending, request }))) continue;
    await deps.audit.append(
      auditEntry('approval.expired', {
        at: now,
        actor: 'baton',
        target: { service: pending.plan.service, environment: pending.plan.environment },
        detail: { approval: pending.id, requestedBy: pending.request.requestedBy },
      }),
    );
  }
  for (const approved of await deps.requests.unlaunched()) {
    if (now - (approved.request.decidedAt ?? now) < LAUNCH_FOLLOW_UP_MS) continue;
    await completeApproval(deps, approved, {
      userId: approved.request.decidedBy ?? 'baton',
      groups: [],
    }).catch((error: unknown) =>
      warn(`launching approved request ${approved.id}: ${(error as Error).message}`),
    );
  }
}
