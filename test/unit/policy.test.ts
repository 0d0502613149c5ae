import { describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/playbook/index.js';
import {
  canDeploy,
  decideApproval,
  expireIfDue,
  needsApproval,
  openApproval,
  type Actor,
  type ApprovalAction,
  type ApprovalRequest,
} from '../../src/core/policy/index.js';

const group = {
  name: 'all',
  hosts: [{ name: 'h', address: 'h', port: 22 }],
  parallel: 1,
  gate: 'auto' as const,
};
const open: Environment = {
  name: 'staging',
  approval: { required: false, expiresMs: 60_000 },
  groups: [group],
};
const guarded: Environment = {
  name: 'production',
  deployers: ['@deploy', 'U0DEPLOYER'],
  approval: { required: true, approvers: ['@sre', 'U0LEAD'], expiresMs: 30 * 60_000 },
  groups: [group],
};
const anyApprover: Environment = {
  ...guarded,
  approval: { required: true, expiresMs: 30 * 60_000 },
};

const alice: Actor = { userId: 'U0ALICE', groups: ['@deploy'] };
const bob: Actor = { userId: 'U0BOB', groups: ['@sre'] };
const lead: Actor = { userId: 'U0LEAD', groups: [] };
const deployer: Actor = { userId: 'U0DEPLOYER', groups: [] };
const mallory: Actor = { userId: 'U0MALLORY', groups: ['@marketing'] };

describe('who may deploy', () => {
  it.each<[string, Environment, Actor, boolean]>([
    ['anyone, where no deployers are listed', open, mallory, true],
    ['a member of a listed user group', guarded, alice, true],
    ['a listed user ID', guarded, deployer, true],
    ['not someone in another group', guarded, mallory, false],
    ['not an approver who is not a deployer', guarded, bob, false],
  ])('%s', (_, environment, actor, allowed) => {
    expect(canDeploy('parser', environment, actor).allowed).toBe(allowed);
  });

  it('says who may, and how to change it', () => {
    expect(canDeploy('parser', guarded, mallory)).toEqual({
      allowed: false,
      reason:
        '<@U0MALLORY> may not deploy parser to production: only @deploy, <@U0DEPLOYER> may. ' +
        'Ask one of them, or add yourself to environments.production.deployers in the playbook.',
    });
  });
});

describe('approvals', () => {
  const T0 = 1_000_000;
  const pending = (environment: Environment = guarded, by = alice.userId): ApprovalRequest =>
    openApproval(environment, by, T0);

  it('are required where the playbook says so', () => {
    expect(needsApproval(guarded)).toBe(true);
    expect(needsApproval(open)).toBe(false);
  });

  it('open pending, expiring after the playbook time', () => {
    expect(pending()).toEqual({
      requestedBy: 'U0ALICE',
      requestedAt: T0,
      expiresAt: T0 + 1_800_000,
      status: 'pending',
    });
  });

  it.each<[string, Environment, Actor, ApprovalAction, number, string]>([
    ['a listed group member approves', guarded, bob, 'approve', 0, 'approved'],
    ['a listed user approves', guarded, lead, 'approve', 0, 'approved'],
    ['a listed approver rejects', guarded, bob, 'reject', 0, 'rejected'],
    ['the requester withdraws', guarded, alice, 'withdraw', 0, 'withdrawn'],
    ['the requester may not approve', guarded, alice, 'approve', 0, 'self_approval'],
    [
      'the requester may not approve even when anyone may',
      anyApprover,
      alice,
      'approve',
      0,
      'self_approval',
    ],
    [
      'the requester may not approve even as an approver',
      guarded,
      { userId: 'U0ALICE', groups: ['@sre'] },
      'approve',
      0,
      'self_approval',
    ],
    ['the requester rejects: told to withdraw', guarded, alice, 'reject', 0, 'not_approver'],
    ['an unlisted user may not approve', guarded, mallory, 'approve', 0, 'not_approver'],
    ['an unlisted user may not reject', guarded, mallory, 'reject', 0, 'not_approver'],
    [
      'with no approvers listed, anyone else approves',
      anyApprover,
      mallory,
      'approve',
      0,
      'approved',
    ],
    ['someone else may not withdraw', guarded, bob, 'withdraw', 0, 'not_requester'],
    ['just before expiry, an approval counts', guarded, bob, 'approve', 1_800_000 - 1, 'approved'],
    ['at expiry, it does not', guarded, bob, 'approve', 1_800_000, 'expired'],
    ['after expiry, a rejection does not either', guarded, bob, 'reject', 3_600_000, 'expired'],
  ])('%s', (_, environment, actor, action, after, outcome) => {
    const result = decideApproval(pending(environment), environment, actor, action, T0 + after);
    expect(result.ok ? result.request.status : result.code).toBe(outcome);
    if (result.ok)
      expect(result.request).toMatchObject({ decidedBy: actor.userId, decidedAt: T0 + after });
  });

  it('a decided request stays decided, and says by whom', () => {
    const approved = decideApproval(pending(), guarded, bob, 'approve', T0 + 1);
    if (!approved.ok) throw new Error(approved.message);
    const again = decideApproval(approved.request, guarded, lead, 'reject', T0 + 2);
    expect(again).toMatchObject({
      ok: false,
      code: 'already_decided',
      message: 'This request was already approved by <@U0BOB>.',
    });
  });

  it('an expired request says how long it waited and what to do', () => {
    const result = decideApproval(pending(), guarded, bob, 'approve', T0 + 3_600_000);
    expect(result).toMatchObject({
      ok: false,
      message: 'This request expired after 30m; ask for the deploy again.',
      request: { status: 'expired', decidedAt: T0 + 1_800_000 },
    });
  });

  it('expireIfDue only touches pending requests past their time', () => {
    const request = pending();
    expect(expireIfDue(request, T0 + 10)).toBe(request);
    expect(expireIfDue(request, T0 + 1_800_000).status).toBe('expired');
    const rejected: ApprovalRequest = { ...request, status: 'rejected' };
    expect(expireIfDue(rejected, T0 + 9_999_999)).toBe(rejected);
  });
});
