import { formatDuration } from '../duration.js';
import type { Environment } from '../playbook/model.js';

/**
 * Someone acting: a person in chat (listed, or not, in a playbook's deployers and approvers), or
 * an operator at a terminal with baton's configuration, who holds its SSH key and store already
 * and so is a deployer everywhere (approval-required environments still ask them to confirm).
 */
export interface Actor {
  userId: string;
  /** User-group handles such as `@sre`, resolved by the adapter that knows them. */
  groups: readonly string[];
  /** A person unless said otherwise. */
  kind?: 'person' | 'operator';
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'withdrawn' | 'expired';

export interface ApprovalRequest {
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decidedBy?: string;
  decidedAt?: number;
}

export type ApprovalAction = 'approve' | 'reject' | 'withdraw';

export type ApprovalRefusal =
  'self_approval' | 'not_approver' | 'not_requester' | 'already_decided' | 'expired';

export type ApprovalResult =
  | { ok: true; request: ApprovalRequest }
  | { ok: false; code: ApprovalRefusal; message: string; request: ApprovalRequest };

function listed(principals: readonly string[], actor: Actor): boolean {
  return principals.some(
    (principal) => principal === actor.userId || actor.groups.includes(principal),
  );
}

const mention = (principal: string): string =>
  /^[UW][A-Z0-9]{2,}$/.test(principal) ? `<@${principal}>` : principal;
const listOf = (principals: readonly string[]): string => principals.map(mention).join(', ');

export function canDeploy(service: string, environment: Environment, actor: Actor): Decision {
  if (
    actor.kind === 'operator' ||
    environment.deployers === undefined ||
    listed(environment.deployers, actor)
  )
    return { allowed: true };
  return {
    allowed: false,
    reason:
      `<@${actor.userId}> may not deploy ${service} to ${environment.name}: only ${listOf(environment.deployers)} may. ` +
      `Ask one of them, or add yourself to environments.${environment.name}.deployers in the playbook.`,
  };
}

/**
 * Cancelling (or keeping) a scheduled rollback undoes someone's decision, so it takes what making
 * it took: a deployer of its service and environment, or the person who asked for it.
 */
export function canStopSchedule(
  schedule: { service: string; requestedBy: string },
  environment: Environment,
  actor: Actor,
): Decision {
  if (requesterOf(schedule.requestedBy) === actor.userId) return { allowed: true };
  const deployer = canDeploy(schedule.service, environment, actor);
  if (deployer.allowed) return deployer;
  return {
    allowed: false,
    reason:
      `<@${actor.userId}> may not stop this rollback of ${schedule.service} in ${environment.name}: only its requester, ${mention(requesterOf(schedule.requestedBy))}, or a deployer there (${listOf(environment.deployers ?? [])}) may. ` +
      'Ask one of them.',
  };
}

/** `UALICE (scheduled)` → `UALICE`: who is behind what baton does on someone's behalf. */
export function requesterOf(requestedBy: string): string {
  return requestedBy.replace(/ \(.*\)$/, '');
}

export function needsApproval(environment: Environment): boolean {
  return environment.approval.required;
}

export function openApproval(
  environment: Environment,
  requestedBy: string,
  now: number,
): ApprovalRequest {
  return {
    requestedBy,
    requestedAt: now,
    expiresAt: now + environment.approval.expiresMs,
    status: 'pending',
  };
}

/** A pending request past its time becomes expired; anything else is returned as it is. */
export function expireIfDue(request: ApprovalRequest, now: number): ApprovalRequest {
  if (request.status !== 'pending' || now < request.expiresAt) return request;
  return { ...request, status: 'expired', decidedAt: request.expiresAt };
}

function refuse(code: ApprovalRefusal, message: string, request: ApprovalRequest): ApprovalResult {
  return { ok: false, code, message, request };
}

function mayJudge(
  environment: Environment,
  actor: Actor,
  request: ApprovalRequest,
  action: 'approve' | 'reject',
  current: ApprovalRequest,
): ApprovalResult | undefined {
  if (actor.userId === request.requestedBy) {
    return action === 'approve'
      ? refuse(
          'self_approval',
          'You cannot approve your own request: another person has to.',
          current,
        )
      : refuse('not_approver', 'To call off your own request, withdraw it instead.', current);
  }
  const approvers = environment.approval.approvers;
  if (approvers !== undefined && !listed(approvers, actor)) {
    return refuse(
      'not_approver',
      `<@${actor.userId}> may not ${action} deploys to ${environment.name}: only ${listOf(approvers)} may.`,
      current,
    );
  }
  return undefined;
}

/**
 * Applies an approver's decision. The requester can never approve their own request; listed
 * approvers (or, with none listed, anyone else) can approve or reject; the requester can withdraw.
 */
export function decideApproval(
  request: ApprovalRequest,
  environment: Environment,
  actor: Actor,
  action: ApprovalAction,
  now: number,
): ApprovalResult {
  const current = expireIfDue(request, now);
  if (current.status === 'expired') {
    return refuse(
      'expired',
      `This request expired after ${formatDuration(current.expiresAt - current.requestedAt)}; ask for the deploy again.`,
      current,
    );
  }
  if (current.status !== 'pending') {
    const by = current.decidedBy === undefined ? '' : ` by <@${current.decidedBy}>`;
    return refuse('already_decided', `This request was already ${current.status}${by}.`, current);
  }
  if (action === 'withdraw') {
    if (actor.userId !== current.requestedBy)
      return refuse(
        'not_requester',
        `Only <@${current.requestedBy}>, who asked, can withdraw this request.`,
        current,
      );
  } else {
    const refusal = mayJudge(environment, actor, current, action, current);
    if (refusal !== undefined) return refusal;
  }
  const status: ApprovalStatus =
    action === 'approve' ? 'approved' : action === 'reject' ? 'rejected' : 'withdrawn';
  return { ok: true, request: { ...current, status, decidedBy: actor.userId, decidedAt: now } };
}
