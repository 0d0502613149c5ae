import { needsApproval, openApproval } from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import { describePlan, planRollout, type Plan, type PlanFilter } from '../../core/rollout/index.js';
import type { Approval } from '../approval-ports.js';
import { auditEntry } from '../audit.js';
import { readInventories } from '../inventory.js';
import { rollbackVersion, runningVersion } from '../history.js';
import { actorFor, command, refuseUnlessDeployer, resolveTarget } from './authorize.js';
import type { ChatOrigin, Principal, UseCaseDeps } from './deps.js';
import { launch, lockedRefusal } from './launch.js';
import { refusal, type Outcome } from './outcome.js';

/** The key of an approval request's message in the outbox. */
export const approvalMessageKey = (approval: string): string => `approval:${approval}`;

export interface RolloutAsk {
  kind: 'deploy' | 'rollback' | 'restart';
  service: string;
  /** Absent for a restart (the running version) or a rollback (the previous good one). */
  version?: string;
  environment?: string;
  dryRun?: boolean;
  rollbackAfterMs?: number;
  /** What runs now, when the operator says so (`--previous`); otherwise the history says. */
  previousVersion?: string;
  /** An operator confirmed, at the terminal, an environment that requires approval. */
  confirmed?: boolean;
  /** `--hosts` / `--groups`: only this part of the environment. */
  only?: PlanFilter;
}

export type RolloutRequested =
  | Outcome<'planned', { plan: Plan; lines: string[] }>
  | Outcome<'awaiting_approval', { approval: string; plan: Plan }>
  | Outcome<'started', { rollout: string; plan: Plan }>;

/**
 * A deploy, rollback or restart asked for: checks who asks and what, then asks for approval or
 * launches the rollout. Nothing starts unless every check passed.
 */
export async function requestRollout(
  deps: UseCaseDeps,
  who: Principal,
  ask: RolloutAsk,
  origin?: ChatOrigin,
): Promise<RolloutRequested> {
  const actor = await actorFor(deps, who);
  const resolved = await resolveTarget(deps, ask.service, ask.environment);
  if ('ok' in resolved) return resolved;
  const denied = await refuseUnlessDeployer(deps, actor, resolved, `${ask.kind}.refused`, {
    ...(ask.version === undefined ? {} : { version: ask.version }),
  });
  if (denied !== undefined) return denied;
  const { environment, target } = resolved;
  // The rollback a dead-man deploy arms covers the whole environment: with --hosts or --groups it
  // would take back hosts this deploy never touched.
  if (ask.rollbackAfterMs !== undefined && ask.only !== undefined)
    return refusal(
      'rollback_after_with_filter',
      '--rollback-after cannot be combined with --hosts or --groups: the rollback it arms covers the whole environment, and would change hosts this deploy leaves alone.',
      'Deploy the whole environment with --rollback-after, or deploy part of it and schedule nothing (roll back that part with `rollback ... --hosts`).',
    );
  const inventories = await readInventories(deps.inventory, resolved.playbook, environment);
  if (!inventories.ok)
    return refusal(
      'inventory_failed',
      `${escape(ask.service)} in ${escape(environment.name)} cannot be planned: ${escape(inventories.message)}`,
      'Nothing was started. Fix the command, or list the hosts in the playbook.',
    );
  const { playbook } = inventories;
  const now = deps.clock.now();
  const entries = await deps.history.list(target, 50);
  const running = ask.previousVersion ?? runningVersion(entries);
  const version =
    ask.version ?? (ask.kind === 'restart' ? running : rollbackVersion(entries)) ?? undefined;
  if (version === undefined)
    return ask.kind === 'restart'
      ? refusal(
          'no_running_version',
          `No deploy of ${escape(ask.service)} in ${escape(environment.name)} is recorded, so there is no running version to restart.`,
          `Deploy one first: \`${command(actor, `${ask.service} <version>`, target)}\``,
        )
      : refusal(
          'no_rollback_version',
          `There is no earlier good version of ${escape(ask.service)} in ${escape(environment.name)} to roll back to.`,
          `Name one: \`${command(actor, `rollback ${ask.service} <version>`, target)}\``,
        );
  const planned = planRollout(
    playbook,
    {
      kind: ask.kind,
      service: ask.service,
      environment: environment.name,
      version,
      previousVersion: running,
      ...(ask.only === undefined ? {} : { only: ask.only }),
    },
    now,
  );
  if (!planned.ok) return refusal(planned.error.code, escape(planned.error.message));
  const { plan } = planned;
  if (ask.dryRun === true)
    return {
      ok: true,
      code: 'planned',
      plan,
      lines: describePlan(plan).split('\n'),
      message: 'Dry run: nothing was started.',
    };
  const holder = await deps.locks.get(target);
  if (holder !== undefined) {
    await deps.audit.append(
      auditEntry(`${plan.kind}.refused`, {
        at: now,
        actor: actor.userId,
        target,
        detail: { why: 'locked', version: plan.version, lockedBy: holder.owner },
      }),
    );
    return lockedRefusal(actor, target, holder, now);
  }
  const confirmed = actor.kind === 'operator' && ask.confirmed === true;
  if (needsApproval(environment) && !confirmed) {
    if (actor.kind === 'operator' || origin === undefined)
      return refusal(
        'confirmation_needed',
        `${escape(environment.name)} requires approval.`,
        'Confirm at a terminal, or pass --yes.',
      );
    const approval: Approval = {
      id: deps.newId(),
      plan,
      channel: origin.channel,
      request: openApproval(environment, actor.userId, now),
      ...(ask.rollbackAfterMs === undefined ? {} : { rollbackAfterMs: ask.rollbackAfterMs }),
      ...(origin.replyUrl === undefined ? {} : { replyUrl: origin.replyUrl }),
    };
    await deps.outbox.add({
      key: approvalMessageKey(approval.id),
      to: {
        kind: 'channel',
        channel: origin.channel,
        ...(origin.replyUrl === undefined ? {} : { replyUrl: origin.replyUrl }),
      },
      view: { kind: 'approval', approval: approval.id },
      createdAt: now,
    });
    await deps.requests.open(approval);
    await deps.audit.append(
      auditEntry('approval.requested', {
        at: now,
        actor: actor.userId,
        target,
        detail: { approval: approval.id, version: plan.version, kind: plan.kind },
      }),
    );
    return {
      ok: true,
      code: 'awaiting_approval',
      approval: approval.id,
      plan,
      message: 'Waiting for approval: the request is in the channel.',
    };
  }
  const started = await launch(deps, {
    plan,
    rollout: deps.newId(),
    lockToken: deps.newId(),
    requestedBy: actor.userId,
    actor,
    ...(origin === undefined ? {} : { origin }),
    ...(ask.rollbackAfterMs === undefined ? {} : { rollbackAfterMs: ask.rollbackAfterMs }),
    ...(needsApproval(environment) ? { confirmed: true as const } : {}),
  });
  return started.ok ? { ...started, plan } : started;
}
