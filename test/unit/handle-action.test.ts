import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { InMemoryChatOpsStore } from '../support/memory/memory-chatops-store.js';
import { InMemoryQueue } from '../support/memory/memory-queue.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from '../support/memory/memory-stores.js';
import type { ChatOpsDeps } from '../../src/app/chatops/deps.js';
import { handleAction } from '../../src/app/chatops/handle-action.js';
import type { Chat, MessageRef } from '../../src/app/chatops/ports.js';
import type { SlackMessage } from '../../src/core/report/block-kit.js';

function setup() {
  const updates: { ref: MessageRef; message: SlackMessage }[] = [];
  const replies: SlackMessage[] = [];
  const chat: Chat = {
    post: async (channel) => ({ channel, ts: '9.9' }),
    update: async (ref, message) => void updates.push({ ref, message }),
    respond: async (_url, message) => void replies.push(message),
  };
  const history = new InMemoryHistory();
  const queue = new InMemoryQueue(() => {});
  queue.work(
    async () => {},
    async () => {},
  );
  const deps: ChatOpsDeps = {
    chat,
    directory: { groupsOf: async () => [] },
    store: new InMemoryChatOpsStore(systemClock),
    locks: new InMemoryLockStore(systemClock),
    rollouts: new InMemoryRolloutStore(),
    history,
    audit: history,
    queue,
    playbooks: { load: async () => ({ playbooks: new Map(), problems: 0, unusable: new Map() }) },
    clock: systemClock,
    timeZone: 'UTC',
    newId: () => 'id',
    warn: () => {},
  };
  return { deps, queue, updates, replies, history };
}

const keep = {
  id: 'keep-r1',
  service: 'parser',
  environment: 'production',
  version: 'v1',
  runAt: Date.now() + 600_000,
  requestedBy: 'UALICE',
  reason: 'rollback-after' as const,
};

describe('handleAction on a scheduled rollback', () => {
  it('marks the message that was clicked, even before its place was remembered', async () => {
    const { deps, queue, updates, history } = setup();
    await queue.schedule(keep, Date.now());
    await handleAction(deps, 'schedule.keep', 'keep-r1', {
      user: 'UBOB',
      channel: 'C1',
      responseUrl: 'unused',
      deliveryId: 'd1',
      messageTs: '5.5',
    });
    expect(await queue.scheduled()).toEqual([]);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.ref).toEqual({ channel: 'C1', ts: '5.5' });
    expect(JSON.stringify(updates[0]?.message.blocks)).toContain('Kept by <@UBOB>');
    expect(history.audit[0]).toMatchObject({ action: 'schedule.kept', actor: 'UBOB' });
    await queue.close();
  });

  it('says so when the rollback is no longer scheduled, and does it once per click', async () => {
    const { deps, replies, updates } = setup();
    const click = { user: 'UBOB', channel: 'C1', responseUrl: 'unused', deliveryId: 'd2' };
    await handleAction(deps, 'schedule.cancel', 'gone', click);
    await handleAction(deps, 'schedule.cancel', 'gone', click);
    expect(updates).toEqual([]);
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]?.blocks)).toContain('no longer scheduled');
  });
});
