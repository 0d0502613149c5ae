import { describe, expect, it } from 'vitest';
import { handleAction } from '../../src/app/chatops/handle-action.js';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import { approvalMessageKey } from '../../src/app/use-cases/request-rollout.js';
import { rolloutMessageKey } from '../../src/app/use-cases/launch.js';
import { ChatWorld, textOf, twoGroups } from '../support/chat-world.js';

/** `/deploy ... --hosts / --groups` from chat, through the use cases and a worker. */
describe('--hosts and --groups in chat', () => {
  it('/deploy parser v2 to staging --hosts b updates only b, and the message says so', async () => {
    const world = new ChatWorld([twoGroups()]);
    await handleCommand(world.front, 'parser v2 to staging --hosts b', world.from('UALICE'));
    await world.rolloutsIdle();
    await world.deliver();
    expect(world.hosts.log).toEqual(['b: restart v2']);
    const rollout = world.queue.jobs[0]?.rollout ?? '';
    const text = textOf(await world.message(rolloutMessageKey(rollout)));
    expect(text).toContain('only --hosts b');
  });

  it('a restart takes --groups', async () => {
    const world = new ChatWorld([twoGroups()]);
    await handleCommand(world.front, 'parser v1 to staging', world.from('UALICE'));
    await world.rolloutsIdle();
    await handleCommand(world.front, 'restart parser to staging --groups g1', world.from('UALICE'));
    await world.rolloutsIdle();
    expect(world.hosts.log).toEqual(['a: restart v1', 'b: restart v1', 'a: restart v1']);
  });

  it('the approval request shows what part of the fleet it is for', async () => {
    const world = new ChatWorld([twoGroups()]);
    await handleCommand(world.front, 'parser v2 --groups g2', world.from('UALICE'));
    await world.deliver();
    const pending = (await world.deps.requests.pending())[0];
    expect(pending?.plan.groups.map((group) => group.name)).toEqual(['g2']);
    const text = textOf(await world.message(approvalMessageKey(pending?.id ?? '')));
    expect(text).toContain('1 group, 1 host: g2 (1)');
    expect(text).toContain('only --groups g2');
    // Approving plans it again: still only g2.
    await handleAction(world.front, 'approval.approve', pending?.id ?? '', world.from('UBOB'));
    await world.rolloutsIdle();
    expect(world.hosts.log).toEqual(['b: restart v2']);
  });

  it('refuses --rollback-after with --hosts: its rollback would change hosts the deploy left alone', async () => {
    const world = new ChatWorld([twoGroups()]);
    const from = world.from('UALICE');
    await handleCommand(world.front, 'parser v2 to staging --hosts b --rollback-after 30m', from);
    await world.deliver();
    expect(textOf(world.replyTo(from))).toContain(
      '--rollback-after cannot be combined with --hosts or --groups',
    );
    expect(world.queue.jobs).toEqual([]);
    expect(await world.deps.schedules.open()).toEqual([]);
  });

  it('an unknown group is refused with a hint, and nothing is queued', async () => {
    const world = new ChatWorld([twoGroups()]);
    const from = world.from('UALICE');
    await handleCommand(world.front, 'parser v2 to staging --groups g3', from);
    await world.deliver();
    expect(textOf(world.replyTo(from))).toContain(
      "staging has no group 'g3'; it has g1, g2. Did you mean 'g1'?",
    );
    expect(world.queue.jobs).toEqual([]);
  });

  it('a malformed list is refused by the grammar with the usage line', async () => {
    const world = new ChatWorld([twoGroups()]);
    const from = world.from('UALICE');
    await handleCommand(world.front, 'parser v2 --hosts a,,b', from);
    await world.deliver();
    const text = textOf(world.replyTo(from));
    expect(text).toContain('has an empty host name');
    expect(text).toContain('[--hosts &lt;h1,h2&gt;] [--groups &lt;g1,g2&gt;]');
  });
});
