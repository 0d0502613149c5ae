import { describe, expect, it } from 'vitest';
import type { Approval, RequestStore } from '../../src/app/approval-ports.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';

const pending = (id: string): Approval => ({
  id,
  plan: planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })),
  channel: 'C1',
  request: {
    requestedBy: 'UALICE',
    requestedAt: 0,
    expiresAt: Date.now() + 60_000,
    status: 'pending',
  },
});

const approved = (id: string): Approval => ({
  ...pending(id),
  request: { ...pending(id).request, status: 'approved', decidedBy: 'UBOB', decidedAt: 1 },
  launch: { rollout: `r-${id}`, lockToken: `t-${id}` },
});

/** What every RequestStore must do; run against Redis, the embedded database and memory. */
export function requestStoreContract(
  name: string,
  make: () => Promise<{ store: RequestStore; pass(ms: number): Promise<void> }>,
): void {
  describe(`RequestStore contract: ${name}`, () => {
    it('says a delivery is new once, until its time is up', async () => {
      const { store, pass } = await make();
      expect(await store.firstDelivery('t1', 200)).toBe(true);
      expect(await store.firstDelivery('t1', 200)).toBe(false);
      expect(await store.firstDelivery('t2', 200)).toBe(true);
      await pass(300);
      expect(await store.firstDelivery('t1', 200)).toBe(true);
    });

    it('opens a request once: opening it again changes nothing, decided or not', async () => {
      const { store } = await make();
      expect(await store.open(pending('a1'))).toBe(true);
      expect(await store.decide('a1', approved('a1'))).toBe(true);
      expect(await store.open(pending('a1'))).toBe(false);
      expect((await store.approval('a1'))?.request.status).toBe('approved');
    });

    it('lets one decision win on a pending request, and lists only pending ones', async () => {
      const { store } = await make();
      await store.open(pending('a1'));
      await store.open(pending('a2'));
      const rejected = {
        ...pending('a1'),
        request: { ...pending('a1').request, status: 'rejected' as const, decidedBy: 'UCAROL' },
      };
      expect(await store.decide('a1', approved('a1'))).toBe(true);
      expect(await store.decide('a1', rejected)).toBe(false);
      expect((await store.approval('a1'))?.request).toMatchObject({
        status: 'approved',
        decidedBy: 'UBOB',
      });
      expect((await store.pending()).map((item) => item.id)).toEqual(['a2']);
      expect(await store.approval('nope')).toBeUndefined();
    });

    it('keeps an approval among the unlaunched until its launch is settled, once', async () => {
      const { store } = await make();
      await store.open(pending('a1'));
      await store.open(pending('a2'));
      await store.decide('a1', approved('a1'));
      await store.decide('a2', {
        ...pending('a2'),
        request: { ...pending('a2').request, status: 'rejected' },
      });
      expect((await store.unlaunched()).map((item) => item.launch)).toEqual([
        { rollout: 'r-a1', lockToken: 't-a1' },
      ]);
      expect(await store.settleLaunch('a1', { started: true })).toBe(true);
      expect(
        await store.settleLaunch('a1', { started: false, code: 'locked', message: 'later' }),
      ).toBe(false);
      expect(await store.unlaunched()).toEqual([]);
      expect((await store.approval('a1'))?.launch).toEqual({
        rollout: 'r-a1',
        lockToken: 't-a1',
        result: { started: true },
      });
    });
  });
}
