import { escape } from '../../core/report/block-kit.js';
import { who as mention } from '../../core/report/chat-messages.js';
import { isTerminal, type RolloutState } from '../../core/rollout/index.js';
import { auditEntry } from '../audit.js';
import { actorFor, refuseUnlessDeployer, resolveTarget, type ResolvedTarget } from './authorize.js';
import type { ChatOrigin, Principal, UseCaseDeps } from './deps.js';
import { refusal, type Outcome, type Refusal } from './outcome.js';
import { requestRollout, type RolloutRequested } from './request-rollout.js';

/** A rollout named by its id (a button) or by its target (a command: the one running there). */
export type RolloutRef = { rollout: string } | { service: string; environment?: string };

const gone = (): Refusal =>
  refusal('unknown_rollout', 'baton knows nothing of this rollout any more.');

async function stateAndTarget(
  deps: UseCaseDeps,
  rollout: string,
): Promise<{ state: RolloutState; resolved: ResolvedTarget } | Refusal> {
  const state = await deps.rollouts.load(rollout);
  if (state === undefined) return gone();
  const resolved = await resolveTarget(deps, state.plan.service, state.plan.environment);
  return 'ok' in resolved ? resolved : { state, resolved };
}

/** Asks a running rollout to stop after its current step; its failure policy then runs. */
export async function cancelRollout(
  deps: UseCaseDeps,
  who: Principal,
  ref: RolloutRef,
): Promise<Outcome<'cancel_requested', { rollout: string; heldBy?: string }>> {
  const actor = await actorFor(deps, who);
  const resolved =
    'rollout' in ref
      ? await stateAndTarget(deps, ref.rollout).then((found) =>
          'ok' in found ? found : found.resolved,
        )
      : await resolveTarget(deps, ref.service, ref.environment);
  if ('ok' in resolved) return resolved;
  const denied = await refuseUnlessDeployer(deps, actor, resolved, 'rollout.cancel_refused');
  if (denied !== undefined) return denied;
  const { target, playbook } = resolved;
  const holder = await deps.locks.get(target);
  const rollout = 'rollout' in ref ? ref.rollout : holder?.rollout;
  const state = rollout === undefined ? undefined : await deps.rollouts.load(rollout);
  const running =
    rollout !== undefined &&
    (state === undefined ? holder?.rollout === rollout : !isTerminal(state.status));
  if (rollout === undefined || !running)
    return refusal(
      'not_running',
      `Nothing of ${escape(target.service)} in ${escape(target.environment)} is rolling out, so there is nothing to cancel.`,
    );
  await deps.rollouts.requestCancel(rollout, actor.userId);
  await deps.audit.append(
    auditEntry('rollout.cancel_requested', {
      at: deps.clock.now(),
      actor: actor.userId,
      target,
      detail: { rollout },
    }),
  );
  return {
    ok: true,
    code: 'cancel_requested',
    rollout,
    ...(holder?.rollout === rollout ? { heldBy: holder.owner } : {}),
    message: `${mention(actor.userId)} asked to cancel the rollout of ${escape(target.service)} in ${escape(target.environment)}: it stops after the current step, then applies ${playbook.onFailure}.`,
  };
}

/** Continue past a manual gate, or abort there (the group is then rolled back per policy). */
export async function answerGate(
  deps: UseCaseDeps,
  who: Principal,
  request: { rollout: string; continue: boolean; group?: string },
): Promise<Outcome<'gate_answered', { group: string }>> {
  const actor = await actorFor(deps, who);
  const found = await stateAndTarget(deps, request.rollout);
  if ('ok' in found) return found;
  const { state, resolved } = found;
  const denied = await refuseUnlessDeployer(
    deps,
    actor,
    resolved,
    request.continue ? 'rollout.continue_refused' : 'rollout.abort_refused',
    { rollout: request.rollout },
  );
  if (denied !== undefined) return denied;
  const waiting = state.groups.find(
    (group) =>
      group.phase === 'awaiting_gate' &&
      (request.group === undefined || group.name === request.group),
  );
  if (waiting === undefined)
    return refusal('no_gate', 'No group is waiting for Continue any more.');
  await deps.rollouts.answerGate(request.rollout, waiting.name, {
    continue: request.continue,
    by: actor.userId,
  });
  await deps.audit.append(
    auditEntry(request.continue ? 'gate.continued' : 'gate.aborted', {
      at: deps.clock.now(),
      actor: actor.userId,
      target: resolved.target,
      detail: { rollout: request.rollout, group: waiting.name },
    }),
  );
  return {
    ok: true,
    code: 'gate_answered',
    group: waiting.name,
    message: `${request.continue ? 'Continuing after' : 'Aborting at'} ${escape(waiting.name)}.`,
  };
}

/** The Roll back button of a finished rollout: a rollback to the version from before it. */
export async function rollBackRollout(
  deps: UseCaseDeps,
  who: Principal,
  rollout: string,
  origin: ChatOrigin,
): Promise<RolloutRequested> {
  const state = await deps.rollouts.load(rollout);
  if (state === undefined) return gone();
  const { plan } = state;
  if (plan.previousVersion === null)
    return refusal(
      'no_previous_version',
      'There is no version from before this rollout to go back to.',
    );
  return requestRollout(
    deps,
    who,
    {
      kind: 'rollback',
      service: plan.service,
      environment: plan.environment,
      version: plan.previousVersion,
    },
    origin,
  );
}
