import { describe, expect, it } from 'vitest';
import { handleAction } from '../../src/app/chatops/handle-action.js';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import {
  completeApproval,
  decideApproval,
  expireAndFollowUp,
  LAUNCH_FOLLOW_UP_MS,
} from '../../src/app/use-cases/decide-approval.js';
import type { Principal } from '../../src/app/use-cases/deps.js';
import { fireScheduledRollback } from '../../src/app/use-cases/fire-scheduled-rollback.js';
import { lockTarget, unlockTarget } from '../../src/app/use-cases/locks.js';
import { schedules } from '../../src/app/use-cases/queries.js';
import { requestRollout } from '../../src/app/use-cases/request-rollout.js';
import { answerGate, cancelRollout } from '../../src/app/use-cases/rollout-controls.js';
import { scheduleRollback, stopSchedule } from '../../src/app/use-cases/schedules.js';
import { buttonsOf, ChatWorld, textOf, twoGroups } from '../support/chat-world.js';
import { deployedBefore } from '../support/history.js';

const alice: Principal = { id: 'UALICE', kind: 'person' };
const bob: Principal = { id: 'UBOB', kind: 'person' };
const carol: Principal = { id: 'UCAROL', kind: 'person' };
const mallory: Principal = { id: 'UMALLORY', kind: 'person' };
const operator: Principal = { id: 'terminal:ops@box', kind: 'operator' };
const C1 = { channel: 'C1' };
const production = { service: 'parser', environment: 'production' };
const staging = { service: 'parser', environment: 'staging' };

/** The history of `target` says `version` runs there. */
const running = (world: ChatWorld, version: string, target = production) =>
  deployedBefore(world.history, target, version);

const actions = (world: ChatWorld) => world.history.audit.map((entry) => entry.action).reverse();

describe('requesting a rollout', () => {
  it('refuses someone who is not a deployer, says who may, and audits it', async () => {
    const world = new ChatWorld([twoGroups()]);
    const outcome = await requestRollout(world.deps, mallory, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
    });
    expect(outcome).toMatchObject({ ok: false, code: 'not_deployer' });
    expect(outcome.message).toContain('only <@UALICE>, <@UBOB>, @deploy may');
    expect(world.history.audit[0]).toMatchObject({
      action: 'deploy.refused',
      actor: 'UMALLORY',
      target: production,
      detail: { why: 'not_deployer', version: 'v2' },
    });
    expect(world.queue.jobs).toEqual([]);
  });

  it('lets the planner and the policy speak with their own codes', async () => {
    const world = new ChatWorld([twoGroups()]);
    const bad = await requestRollout(world.deps, alice, {
      kind: 'deploy',
      service: 'parser',
      version: 'not a version',
    });
    expect(bad).toMatchObject({ ok: false, code: 'version_mismatch' });
    const nowhere = await requestRollout(world.deps, alice, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
      environment: 'prod',
    });
    expect(nowhere).toMatchObject({ ok: false, code: 'unknown_environment' });
    expect(nowhere.message).toContain("Did you mean 'production'?");
    const nothing = await requestRollout(world.deps, alice, { kind: 'restart', service: 'parser' });
    expect(nothing).toMatchObject({ ok: false, code: 'no_running_version' });
  });

  it('starts at once where no approval is needed: lock, job, message and audit together', async () => {
    const world = new ChatWorld([twoGroups()]);
    world.hosts.hold = true;
    const outcome = await requestRollout(
      world.deps,
      carol,
      { kind: 'deploy', service: 'parser', version: 'v2', environment: 'staging' },
      C1,
    );
    expect(outcome).toMatchObject({ ok: true, code: 'started', rollout: 'id-1' });
    expect(world.queue.jobs.map((job) => job.rollout)).toEqual(['id-1']);
    expect(await world.deps.locks.get(staging)).toMatchObject({ rollout: 'id-1', owner: 'UCAROL' });
    expect((await world.deps.outbox.get('rollout:id-1'))?.to).toEqual({
      kind: 'channel',
      channel: 'C1',
    });
    expect(world.history.audit[0]).toMatchObject({
      action: 'deploy.requested',
      detail: { rollout: 'id-1', version: 'v2' },
    });
    world.hosts.release();
    await world.rolloutsIdle();
  });

  it('asks for approval where it is required, and an operator to confirm', async () => {
    const world = new ChatWorld([twoGroups()]);
    const asked = await requestRollout(
      world.deps,
      alice,
      { kind: 'deploy', service: 'parser', version: 'v2' },
      C1,
    );
    expect(asked).toMatchObject({ ok: true, code: 'awaiting_approval', approval: 'id-1' });
    expect((await world.deps.requests.approval('id-1'))?.request.status).toBe('pending');
    await world.deliver();
    expect(buttonsOf(await world.message('approval:id-1'))).toEqual([
      'approval.approve',
      'approval.reject',
      'approval.withdraw',
    ]);
    const unconfirmed = await requestRollout(world.deps, operator, {
      kind: 'deploy',
      service: 'parser',
      version: 'v3',
    });
    expect(unconfirmed).toMatchObject({ ok: false, code: 'confirmation_needed' });
    expect(unconfirmed.message).toBe('production requires approval.');
    world.hosts.hold = true;
    const confirmed = await requestRollout(world.deps, operator, {
      kind: 'deploy',
      service: 'parser',
      version: 'v3',
      confirmed: true,
    });
    expect(confirmed).toMatchObject({ ok: true, code: 'started' });
    expect(world.history.audit[0]).toMatchObject({
      action: 'deploy.requested',
      actor: 'terminal:ops@box',
      detail: { confirmed: true },
    });
    world.hosts.release();
    await world.rolloutsIdle();
  });

  it('refuses a target that is locked, saying by whom and how to stop it', async () => {
    const world = new ChatWorld([twoGroups()]);
    await lockTarget(world.deps, bob, { ...production, reason: 'db migration', ttlMs: 3600_000 });
    const refused = await requestRollout(world.deps, alice, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
    });
    expect(refused).toMatchObject({
      ok: false,
      code: 'locked',
      hint: 'To stop it: `/deploy unlock parser to production`',
    });
    expect(refused.message).toMatch(/locked by <@UBOB> since .*: db migration/);
    const atTerminal = await requestRollout(world.deps, operator, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
      confirmed: true,
    });
    expect(atTerminal).toMatchObject({
      code: 'locked',
      hint: 'To stop it: `baton unlock parser --env production`',
    });
  });
});

describe('deciding an approval', () => {
  async function asked(world: ChatWorld) {
    await requestRollout(
      world.deps,
      alice,
      { kind: 'deploy', service: 'parser', version: 'v2' },
      C1,
    );
    return 'id-1';
  }

  it('never lets the requester approve, nor anyone who is not an approver', async () => {
    const world = new ChatWorld([twoGroups()]);
    const id = await asked(world);
    expect(
      await decideApproval(world.deps, alice, { approval: id, action: 'approve' }),
    ).toMatchObject({ ok: false, code: 'self_approval' });
    expect(
      await decideApproval(world.deps, carol, { approval: id, action: 'approve' }),
    ).toMatchObject({ ok: false, code: 'not_approver' });
    expect(actions(world).slice(-2)).toEqual([
      'approval.approve_refused',
      'approval.approve_refused',
    ]);
    expect(world.queue.jobs).toEqual([]);
  });

  it('queues the rollout it approves, with the ids fixed in the same write', async () => {
    const world = new ChatWorld([twoGroups()]);
    const id = await asked(world);
    const decided = await decideApproval(
      world.deps,
      { id: 'UDAVE', kind: 'person' },
      {
        approval: id,
        action: 'approve',
      },
    );
    expect(decided).toMatchObject({ ok: true, code: 'approved', launch: { started: true } });
    const stored = await world.deps.requests.approval(id);
    expect(stored?.launch).toMatchObject({
      rollout: 'id-2',
      lockToken: 'id-3',
      result: { started: true },
    });
    expect(world.queue.jobs.map((job) => [job.rollout, job.lockToken, job.requestedBy])).toEqual([
      ['id-2', 'id-3', 'UALICE'],
    ]);
    await world.rolloutsIdle();
    await world.deliver();
    expect(textOf(await world.message(`approval:${id}`))).toMatch(/Approved by <@UDAVE>/);
    expect(textOf(await world.message('rollout:id-2'))).toMatch(/: done/);
  });

  it('gives one decision of two made at once, and tells the other who was first', async () => {
    const world = new ChatWorld([twoGroups()]);
    const id = await asked(world);
    const [approve, reject] = await Promise.all([
      decideApproval(world.deps, bob, { approval: id, action: 'approve' }),
      decideApproval(
        world.deps,
        { id: 'UDAVE', kind: 'person' },
        { approval: id, action: 'reject' },
      ),
    ]);
    const outcomes = [approve, reject];
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    expect(outcomes.find((outcome) => !outcome.ok)).toMatchObject({ code: 'decided_meanwhile' });
    expect(world.queue.jobs.length).toBe(approve.ok ? 1 : 0);
    await world.rolloutsIdle();
  });

  it('says on the request, and to the approver, when an approved rollout cannot start', async () => {
    const world = new ChatWorld([twoGroups()]);
    const id = await asked(world);
    await lockTarget(world.deps, bob, { ...production, reason: 'freeze', ttlMs: 3600_000 });
    const decided = await decideApproval(world.deps, bob, { approval: id, action: 'approve' });
    expect(decided).toMatchObject({ ok: true, launch: { started: false, code: 'locked' } });
    await world.deliver();
    const shown = textOf(await world.message(`approval:${id}`));
    expect(shown).toMatch(/Approved by <@UBOB>/);
    expect(shown).toMatch(/Approved, but it cannot start: parser in production is locked/);
    expect(world.queue.jobs).toEqual([]);
  });

  it('completes a launch that a process dying right after the approval left undone, once', async () => {
    const world = new ChatWorld([twoGroups()]);
    const id = await asked(world);
    const pending = await world.deps.requests.approval(id);
    if (pending === undefined) throw new Error('no request');
    // The approval is stored with its rollout fixed, and then the process dies.
    await world.deps.requests.decide(id, {
      ...pending,
      request: {
        ...pending.request,
        status: 'approved',
        decidedBy: 'UBOB',
        decidedAt: world.clock.now(),
      },
      launch: { rollout: 'r-fixed', lockToken: 't-fixed' },
    });
    await expireAndFollowUp(world.deps, () => {});
    expect(world.queue.jobs).toEqual([]);
    world.clock.advance(LAUNCH_FOLLOW_UP_MS);
    await Promise.all([
      expireAndFollowUp(world.deps, () => {}),
      expireAndFollowUp(world.deps, () => {}),
    ]);
    expect(world.queue.jobs.map((job) => job.rollout)).toEqual(['r-fixed']);
    const approved = await world.deps.requests.approval(id);
    expect(approved?.launch?.result).toEqual({ started: true });
    if (approved !== undefined)
      expect(await completeApproval(world.deps, approved, { userId: 'UBOB', groups: [] })).toEqual({
        started: true,
      });
    expect(world.queue.jobs).toHaveLength(1);
    await world.rolloutsIdle();
  });

  it('expires a request nobody decided, and refuses a late click', async () => {
    const world = new ChatWorld([twoGroups()]);
    const id = await asked(world);
    world.clock.advance(31 * 60_000);
    await expireAndFollowUp(world.deps, () => {});
    await world.deliver();
    expect(textOf(await world.message(`approval:${id}`))).toMatch(
      /Expired: nobody decided within 30m/,
    );
    expect(buttonsOf(await world.message(`approval:${id}`))).toEqual([]);
    expect(
      await decideApproval(world.deps, bob, { approval: id, action: 'approve' }),
    ).toMatchObject({
      ok: false,
      code: 'expired',
    });
    expect(actions(world)).toContain('approval.expired');
  });
});

describe('controlling a rollout', () => {
  it('cancels the one running on a target, and says when nothing is', async () => {
    const world = new ChatWorld([twoGroups()]);
    expect(await cancelRollout(world.deps, bob, staging)).toMatchObject({
      ok: false,
      code: 'not_running',
    });
    await running(world, 'v1', staging);
    world.hosts.hold = true;
    await requestRollout(world.deps, carol, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
      environment: 'staging',
    });
    await world.hosts.whenStarted(1);
    expect(await cancelRollout(world.deps, mallory, staging)).toMatchObject({
      code: 'not_deployer',
    });
    expect(await cancelRollout(world.deps, bob, staging)).toMatchObject({
      ok: true,
      code: 'cancel_requested',
      rollout: 'id-1',
      heldBy: 'UCAROL',
    });
    world.hosts.release();
    await world.rolloutsIdle();
    expect((await world.deps.rollouts.load('id-1'))?.status).toBe('rolled_back');
    expect(actions(world)).toContain('rollout.cancel_requested');
  });

  it('answers a manual gate, and says when no group waits any more', async () => {
    const world = new ChatWorld([twoGroups({ gate: true })]);
    await requestRollout(world.deps, carol, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
      environment: 'staging',
    });
    await world.rolloutsIdle();
    expect((await world.deps.rollouts.load('id-1'))?.status).toBe('awaiting_gate');
    expect(
      await answerGate(world.deps, mallory, { rollout: 'id-1', continue: true }),
    ).toMatchObject({ code: 'not_deployer' });
    expect(await answerGate(world.deps, bob, { rollout: 'id-1', continue: true })).toMatchObject({
      ok: true,
      group: 'g1',
    });
    await world.when(
      async () => (await world.deps.rollouts.load('id-1'))?.status !== 'awaiting_gate',
    );
    await world.rolloutsIdle();
    expect((await world.deps.rollouts.load('id-1'))?.status).toBe('succeeded');
    expect(await answerGate(world.deps, bob, { rollout: 'id-1', continue: true })).toMatchObject({
      ok: false,
      code: 'no_gate',
    });
    expect(actions(world)).toContain('gate.continued');
  });
});

describe('scheduled rollbacks', () => {
  it('refuses a second rollback for a target that has one, naming it; other targets are free', async () => {
    const world = new ChatWorld([twoGroups()]);
    await running(world, 'v1');
    await running(world, 'v2');
    const at = world.clock.now() + 600_000;
    const first = await scheduleRollback(world.deps, alice, { service: 'parser', runAt: at }, C1);
    expect(first).toMatchObject({ ok: true, code: 'scheduled' });
    const second = await scheduleRollback(world.deps, bob, { service: 'parser', runAt: at }, C1);
    expect(second).toMatchObject({ ok: false, code: 'already_scheduled' });
    expect(second.message).toContain(first.ok ? first.schedule.id : '?');
    expect(actions(world).slice(-1)).toEqual(['schedule.refused']);
    expect(world.queue.armed().map((item) => item.id)).toEqual([first.ok ? first.schedule.id : '']);
    await running(world, 'v1', staging);
    await running(world, 'v2', staging);
    const elsewhere = await scheduleRollback(world.deps, bob, { ...staging, runAt: at }, C1);
    expect(elsewhere).toMatchObject({ ok: true });
    expect((await schedules(world.deps, carol)).ok).toBe(true);
  });

  it('is stopped only by its requester or a deployer of its target, who alone see its button', async () => {
    const world = new ChatWorld([twoGroups()]);
    await running(world, 'v1');
    await running(world, 'v2');
    const made = await scheduleRollback(
      world.deps,
      alice,
      { service: 'parser', runAt: world.clock.now() + 60_000 },
      C1,
    );
    if (!made.ok) throw new Error(made.message);
    const id = made.schedule.id;
    const listed = await schedules(world.deps, mallory);
    expect(listed.ok && listed.schedules.map((item) => item.mayStop)).toEqual([false]);
    const refused = await stopSchedule(world.deps, mallory, { schedule: id, as: 'cancelled' });
    expect(refused).toMatchObject({ ok: false, code: 'not_deployer' });
    expect(world.history.audit[0]).toMatchObject({
      action: 'schedule.cancel_refused',
      actor: 'UMALLORY',
      target: production,
      detail: { why: 'not_deployer', schedule: id },
    });
    expect(await stopSchedule(world.deps, bob, { schedule: id, as: 'cancelled' })).toMatchObject({
      ok: true,
    });
    expect(await stopSchedule(world.deps, alice, { schedule: id, as: 'cancelled' })).toMatchObject({
      ok: false,
      code: 'schedule_settled',
      message: 'This rollback is no longer scheduled: it was cancelled (by <@UBOB>).',
    });
    expect(world.queue.armed()).toEqual([]);
    await world.deliver();
    expect(textOf(await world.message(`schedule:${id}`))).toMatch(/Cancelled by <@UBOB>/);
  });

  it('fires once, however often it is fired, starting the rollout it fixed when first taken', async () => {
    const world = new ChatWorld([twoGroups()]);
    await running(world, 'v1', staging);
    await running(world, 'v2', staging);
    const made = await scheduleRollback(
      world.deps,
      carol,
      { ...staging, runAt: world.clock.now() + 1000 },
      C1,
    );
    if (!made.ok) throw new Error(made.message);
    const due = made.schedule;
    const [first, again] = await Promise.all([
      fireScheduledRollback(world.deps, due, 'worker-1'),
      fireScheduledRollback(world.deps, due, 'worker-2'),
    ]);
    const started = [first, again].filter((outcome) => 'started' in outcome);
    expect(started.length).toBeGreaterThanOrEqual(1);
    expect(world.queue.jobs.map((job) => job.requestedBy)).toEqual(['UCAROL (scheduled)']);
    expect(await fireScheduledRollback(world.deps, due, 'worker-1')).toEqual({
      nothing: 'it was fired',
    });
    await world.rolloutsIdle();
    await world.deliver();
    expect(textOf(await world.message(`schedule:${due.id}`))).toMatch(/It has fired/);
  });

  it('is skipped, saying why on its message, when its target is locked as it fires', async () => {
    const world = new ChatWorld([twoGroups()]);
    await running(world, 'v1', staging);
    await running(world, 'v2', staging);
    const made = await scheduleRollback(
      world.deps,
      carol,
      { ...staging, runAt: world.clock.now() + 1000 },
      C1,
    );
    if (!made.ok) throw new Error(made.message);
    await lockTarget(world.deps, bob, { ...staging, reason: 'hands off', ttlMs: 3600_000 });
    expect(await fireScheduledRollback(world.deps, made.schedule, 'worker-1')).toEqual({
      skipped: 'locked by UBOB: hands off',
    });
    await world.deliver();
    expect(textOf(await world.message(`schedule:${made.schedule.id}`))).toMatch(
      /did not run.*locked by UBOB: hands off|locked by UBOB: hands off/s,
    );
    expect(world.queue.jobs).toEqual([]);
  });

  it('asks for approval when it fires where approval is required', async () => {
    const world = new ChatWorld([twoGroups()]);
    await running(world, 'v1');
    await running(world, 'v2');
    const made = await scheduleRollback(
      world.deps,
      alice,
      { service: 'parser', runAt: world.clock.now() + 1000 },
      C1,
    );
    if (!made.ok) throw new Error(made.message);
    const fired = await fireScheduledRollback(world.deps, made.schedule, 'worker-1');
    expect(fired).toHaveProperty('awaitingApproval');
    const approval = 'awaitingApproval' in fired ? fired.awaitingApproval : '';
    expect((await world.deps.requests.approval(approval))?.request.requestedBy).toBe('UALICE');
    expect(world.queue.jobs).toEqual([]);
  });
});

describe('locks', () => {
  it('takes away a person’s lock in chat (audited as forced), a rollout’s never, and asks an operator for --force', async () => {
    const world = new ChatWorld([twoGroups()]);
    await lockTarget(world.deps, alice, { ...production, reason: 'mine', ttlMs: 3600_000 });
    const atTerminal = await unlockTarget(world.deps, operator, {
      ...production,
      force: { othersLock: false, rolloutLock: false },
    });
    expect(atTerminal).toMatchObject({
      ok: false,
      code: 'lock_held_by_other',
      hint: expect.stringContaining('--force'),
    });
    const inChat = await unlockTarget(world.deps, bob, {
      ...production,
      force: { othersLock: true, rolloutLock: false },
    });
    expect(inChat).toMatchObject({ ok: true, code: 'unlocked' });
    expect(world.history.audit[0]).toMatchObject({
      action: 'lock.released',
      actor: 'UBOB',
      detail: { holder: 'UALICE', reason: 'mine', forced: true },
    });
    world.hosts.hold = true;
    await requestRollout(world.deps, carol, {
      kind: 'deploy',
      service: 'parser',
      version: 'v2',
      environment: 'staging',
    });
    const held = await unlockTarget(world.deps, bob, {
      ...staging,
      force: { othersLock: true, rolloutLock: false },
    });
    expect(held).toMatchObject({ ok: false, code: 'lock_held_by_rollout' });
    world.hosts.release();
    await world.rolloutsIdle();
  });
});

describe('the chat front end', () => {
  it('answers only once per delivery, and shows refusals to the person alone', async () => {
    const world = new ChatWorld([twoGroups()]);
    const from = world.from('UMALLORY');
    await handleCommand(world.front, 'parser v2', from);
    await handleCommand(world.front, 'parser v2', from);
    await world.deliver();
    const replies = world.chat.replies.filter((reply) => reply.url === from.responseUrl);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.visible).toBe('me');
    expect(textOf(replies[0]?.message)).toContain('<@UMALLORY> may not deploy parser');
  });

  it('turns a button into the use case, and answers a refusal privately', async () => {
    const world = new ChatWorld([twoGroups()]);
    await handleCommand(world.front, 'parser v2', world.from('UALICE'));
    await world.deliver();
    const click = world.from('UALICE');
    await handleAction(world.front, 'approval.approve', 'id-1', click);
    await world.deliver();
    expect(textOf(world.replyTo(click))).toContain('You cannot approve your own request');
    await handleAction(world.front, 'approval.approve', 'id-1', world.from('UBOB'));
    await world.rolloutsIdle();
    await world.deliver();
    expect(textOf(await world.message('approval:id-1'))).toMatch(/Approved by <@UBOB>/);
    expect(textOf(await world.message('rollout:id-2'))).toMatch(/: done/);
  });
});
