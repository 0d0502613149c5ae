import { decideApproval, type ApprovalAction } from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import {
  approvalMessage,
  scheduleMessage,
  textMessage,
  who,
} from '../../core/report/chat-messages.js';
import { planRollout } from '../../core/rollout/index.js';
import { runningVersion } from '../history.js';
import { DELIVERY_TTL_MS } from './handle-command.js';
import type { ChatOpsDeps, Interaction } from './deps.js';
import { launch, requestRollout } from './request-rollout.js';
import { actorOf, deployerTarget, resolveTarget } from './targets.js';

export const ACTION_IDS = [
  'approval.approve',
  'approval.reject',
  'approval.withdraw',
  'rollout.cancel',
  'rollout.continue',
  'rollout.abort',
  'rollout.rollback',
  'schedule.cancel',
  'schedule.keep',
] as const;

export type ActionId = (typeof ACTION_IDS)[number];

/** A button click, after Slack has been answered. A redelivered click does nothing. */
export async function handleAction(
  deps: ChatOpsDeps,
  action: ActionId,
  value: string,
  from: Interaction,
): Promise<void> {
  if (!(await deps.store.firstDelivery(`action:${from.deliveryId}`, DELIVERY_TTL_MS))) return;
  let refusal: string | undefined;
  try {
    refusal = await act(deps, action, value, from);
  } catch (error) {
    deps.warn(`${action} ${value}: ${(error as Error).message}`);
    refusal = `Something went wrong on baton's side: ${escape((error as Error).message)}. Look at \`/deploy status\` before trying again; baton's log has the details.`;
  }
  if (refusal !== undefined)
    await deps.chat.respond(from.responseUrl, textMessage(refusal), {
      visible: 'me',
      replaceOriginal: false,
    });
}

async function act(
  deps: ChatOpsDeps,
  action: ActionId,
  value: string,
  from: Interaction,
): Promise<string | undefined> {
  switch (action) {
    case 'approval.approve':
      return decide(deps, value, 'approve', from);
    case 'approval.reject':
      return decide(deps, value, 'reject', from);
    case 'approval.withdraw':
      return decide(deps, value, 'withdraw', from);
    case 'rollout.cancel':
    case 'rollout.continue':
    case 'rollout.abort':
    case 'rollout.rollback':
      return onRollout(deps, action, value, from);
    case 'schedule.cancel':
    case 'schedule.keep':
      return unschedule(deps, action, value, from);
  }
}

async function decide(
  deps: ChatOpsDeps,
  id: string,
  action: ApprovalAction,
  from: Interaction,
): Promise<string | undefined> {
  const pending = await deps.store.pending(id);
  if (pending === undefined)
    return 'This request is no longer known to baton; ask for the deploy again.';
  const { plan } = pending;
  const resolved = await resolveTarget(deps, plan.service, plan.environment);
  if (typeof resolved === 'string') return resolved;
  const { playbook, environment, target } = resolved;
  const now = deps.clock.now();
  const result = decideApproval(
    pending.request,
    environment,
    await actorOf(deps, from.user),
    action,
    now,
  );
  if (!result.ok) {
    await deps.audit.append({
      at: now,
      actor: from.user,
      action: `approval.${action}_refused`,
      target,
      detail: { approval: id, why: result.code },
    });
    return result.message;
  }
  const decided = { ...pending, request: result.request };
  if (!(await deps.store.decide(id, decided))) {
    const winner = await deps.store.pending(id);
    return `Someone was quicker: this request is already ${winner?.request.status ?? 'decided'}.`;
  }
  await deps.audit.append({
    at: now,
    actor: from.user,
    action: `approval.${result.request.status}`,
    target,
    detail: { approval: id, version: plan.version, requestedBy: pending.request.requestedBy },
  });
  if (pending.messageTs !== undefined)
    await deps.chat.update(
      { channel: pending.channel, ts: pending.messageTs },
      approvalMessage(decided),
    );
  if (result.request.status !== 'approved') return undefined;
  // Planned again: the playbook or the running version may have changed while it waited.
  const fresh = planRollout(
    playbook,
    {
      kind: plan.kind,
      service: plan.service,
      environment: plan.environment,
      version: plan.version,
      previousVersion: runningVersion(await deps.history.list(target, 50)),
    },
    now,
  );
  if (!fresh.ok) return `Approved, but it cannot start: ${fresh.error.message}`;
  const started = await launch(
    deps,
    fresh.plan,
    pending.request.requestedBy,
    pending.channel,
    pending.rollbackAfterMs,
  );
  return started.ok ? undefined : `Approved, but it cannot start: ${started.text}`;
}

async function onRollout(
  deps: ChatOpsDeps,
  action: 'rollout.cancel' | 'rollout.continue' | 'rollout.abort' | 'rollout.rollback',
  rollout: string,
  from: Interaction,
): Promise<string | undefined> {
  const state = await deps.rollouts.load(rollout);
  if (state === undefined) return 'baton knows nothing of this rollout any more.';
  const { plan } = state;
  const resolved = await deployerTarget(deps, plan.service, plan.environment, from.user, {
    action: `${action}_refused`,
    detail: { rollout },
  });
  if (typeof resolved === 'string') return resolved;
  const { target } = resolved;
  const now = deps.clock.now();
  if (action === 'rollout.rollback') {
    if (plan.previousVersion === null)
      return 'There is no version from before this rollout to go back to.';
    const outcome = await requestRollout(
      deps,
      {
        kind: 'rollback',
        service: plan.service,
        environment: plan.environment,
        version: plan.previousVersion,
      },
      from,
    );
    return outcome.ok ? undefined : outcome.text;
  }
  if (action === 'rollout.cancel') {
    await deps.rollouts.requestCancel(rollout, from.user);
    await deps.audit.append({
      at: now,
      actor: from.user,
      action: 'rollout.cancel_requested',
      target,
      detail: { rollout },
    });
    return undefined;
  }
  const waiting = state.groups.find((group) => group.phase === 'awaiting_gate');
  if (waiting === undefined) return 'No group is waiting for Continue any more.';
  await deps.rollouts.answerGate(rollout, waiting.name, {
    continue: action === 'rollout.continue',
    by: from.user,
  });
  await deps.audit.append({
    at: now,
    actor: from.user,
    action: action === 'rollout.continue' ? 'gate.continued' : 'gate.aborted',
    target,
    detail: { rollout, group: waiting.name },
  });
  return undefined;
}

async function unschedule(
  deps: ChatOpsDeps,
  action: 'schedule.cancel' | 'schedule.keep',
  id: string,
  from: Interaction,
): Promise<string | undefined> {
  const schedule = (await deps.queue.scheduled()).find((item) => item.id === id);
  if (schedule === undefined || !(await deps.queue.unschedule(id)))
    return 'This rollback is no longer scheduled: it has fired or was cancelled already.';
  const now = deps.clock.now();
  await deps.audit.append({
    at: now,
    actor: from.user,
    action: action === 'schedule.keep' ? 'schedule.kept' : 'schedule.cancelled',
    target: { service: schedule.service, environment: schedule.environment },
    detail: { schedule: id },
  });
  // The schedule's own message, or the one clicked (a click can come before it is remembered).
  const ref =
    (await deps.store.scheduleMessage(id)) ??
    (from.messageTs === undefined ? undefined : { channel: from.channel, ts: from.messageTs });
  if (ref !== undefined)
    await deps.chat.update(ref, scheduleMessage(schedule, { cancelledBy: from.user, at: now }));
  else
    await deps.chat.respond(
      from.responseUrl,
      textMessage(
        `${who(from.user)} cancelled the rollback of ${schedule.service} in ${schedule.environment} that was due ${new Date(schedule.runAt).toISOString()}.`,
      ),
      { visible: 'channel', replaceOriginal: false },
    );
  return undefined;
}
