import { describe, expect, it } from 'vitest';
import type { ChatOpsStore, PendingRollout } from '../../src/app/chatops/ports.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';

const pending = (id: string): PendingRollout => ({
  id,
  plan: planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })),
  channel: 'C1',
  messageTs: '1.1',
  request: {
    requestedBy: 'UALICE',
    requestedAt: 0,
    expiresAt: Date.now() + 60_000,
    status: 'pending',
  },
});

/** What every ChatOpsStore must do; run against Redis and against the in-memory store. */
export function chatOpsStoreContract(
  name: string,
  make: () => Promise<{ store: ChatOpsStore; pass(ms: number): Promise<void> }>,
): void {
  describe(`ChatOpsStore contract: ${name}`, () => {
    it('says a delivery is new once, until its time is up', async () => {
      const { store, pass } = await make();
      expect(await store.firstDelivery('t1', 200)).toBe(true);
      expect(await store.firstDelivery('t1', 200)).toBe(false);
      expect(await store.firstDelivery('t2', 200)).toBe(true);
      await pass(300);
      expect(await store.firstDelivery('t1', 200)).toBe(true);
    });

    it('lets one decision win on a pending request, and lists only pending ones', async () => {
      const { store } = await make();
      await store.savePending(pending('a1'));
      await store.savePending(pending('a2'));
      const approved = {
        ...pending('a1'),
        request: { ...pending('a1').request, status: 'approved' as const, decidedBy: 'UBOB' },
      };
      const rejected = {
        ...pending('a1'),
        request: { ...pending('a1').request, status: 'rejected' as const, decidedBy: 'UCAROL' },
      };
      expect(await store.decide('a1', approved)).toBe(true);
      expect(await store.decide('a1', rejected)).toBe(false);
      expect((await store.pending('a1'))?.request).toMatchObject({
        status: 'approved',
        decidedBy: 'UBOB',
      });
      expect((await store.allPending()).map((item) => item.id)).toEqual(['a2']);
      expect(await store.pending('nope')).toBeUndefined();
    });

    it('gives the duty of reporting a rollout to one owner at a time, until its lease lapses', async () => {
      const { store, pass } = await make();
      await store.report({ rollout: 'r1', channel: 'C1', requestedBy: 'UALICE' });
      expect((await store.reports()).map((entry) => entry.rollout)).toEqual(['r1']);
      expect(await store.claimReport('r1', 'serve-1', 200)).toBe(true);
      expect(await store.claimReport('r1', 'serve-2', 200)).toBe(false);
      expect(await store.claimReport('r1', 'serve-1', 200)).toBe(true);
      await pass(300);
      expect(await store.claimReport('r1', 'serve-2', 200)).toBe(true);
      await store.reportDone('r1');
      expect(await store.reports()).toEqual([]);
    });

    it('hands each notice to one taker, oldest first', async () => {
      const { store } = await make();
      expect(await store.takeNotices()).toEqual([]);
      await store.addNotice({ channel: 'C1', text: 'first' });
      await store.addNotice({ channel: 'C2', text: 'second' });
      const [one, two] = await Promise.all([store.takeNotices(), store.takeNotices()]);
      expect([...(one ?? []), ...(two ?? [])].map((notice) => notice.text)).toEqual([
        'first',
        'second',
      ]);
      expect(await store.takeNotices()).toEqual([]);
    });

    it('remembers where a schedule’s message is', async () => {
      const { store } = await make();
      expect(await store.scheduleMessage('s1')).toBeUndefined();
      await store.rememberScheduleMessage('s1', { channel: 'C1', ts: '2.2' });
      expect(await store.scheduleMessage('s1')).toEqual({ channel: 'C1', ts: '2.2' });
    });
  });
}
