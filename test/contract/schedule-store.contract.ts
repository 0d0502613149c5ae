import { describe, expect, it } from 'vitest';
import type { ScheduledRollback } from '../../src/app/jobs.js';
import type { ScheduleStore } from '../../src/app/schedule-ports.js';

const rollback = (id: string, runAt: number, extra: Partial<ScheduledRollback> = {}) => ({
  id,
  service: 'parser',
  environment: 'production',
  runAt,
  requestedBy: 'UALICE',
  reason: 'scheduled' as const,
  ...extra,
});
const asked = { replace: false, at: 1, by: 'UALICE' };

/** What every ScheduleStore must do; run against Redis, the embedded database and memory. */
export function scheduleStoreContract(name: string, make: () => Promise<ScheduleStore>): void {
  describe(`ScheduleStore contract: ${name}`, () => {
    it('keeps one open rollback per target, and says which one is there', async () => {
      const store = await make();
      expect(await store.create(rollback('s1', 2000), asked)).toEqual({
        ok: true,
        added: true,
        replaced: [],
      });
      const second = await store.create(rollback('s2', 2000), asked);
      expect(second).toMatchObject({ ok: false, existing: { id: 's1', status: 'pending' } });
      const elsewhere = await store.create(rollback('s3', 2000, { environment: 'staging' }), asked);
      expect(elsewhere).toMatchObject({ ok: true, added: true });
      expect((await store.open()).map((item) => item.id).sort()).toEqual(['s1', 's3']);
      expect(await store.get('s2')).toBeUndefined();
    });

    it('adds nothing when an id is created again', async () => {
      const store = await make();
      await store.create(rollback('s1', 2000), asked);
      expect(await store.create(rollback('s1', 9000), asked)).toEqual({
        ok: true,
        added: false,
        replaced: [],
      });
      expect((await store.get('s1'))?.runAt).toBe(2000);
    });

    it('gives one of two rollbacks asked for one target at the same moment', async () => {
      const store = await make();
      const results = await Promise.all([
        store.create(rollback('a', 5000), asked),
        store.create(rollback('b', 5000), asked),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(await store.open()).toHaveLength(1);
    });

    it('lets a dead-man switch replace a pending rollback, which says by whom', async () => {
      const store = await make();
      await store.create(rollback('s1', 2000), asked);
      const created = await store.create(rollback('keep-r1', 3000, { reason: 'rollback-after' }), {
        replace: true,
        at: 7,
        by: 'worker-1',
      });
      expect(created).toMatchObject({
        ok: true,
        added: true,
        replaced: [{ id: 's1', status: 'replaced', settled: { by: 'worker-1', at: 7 } }],
      });
      expect((await store.get('s1'))?.status).toBe('replaced');
      expect((await store.open()).map((item) => item.id)).toEqual(['keep-r1']);
    });

    it('moves a rollback on only from the statuses given, so firing and cancelling never both win', async () => {
      const store = await make();
      await store.create(rollback('s1', 2000), asked);
      const firing = { rollout: 'r1', lockToken: 't1', approval: 'a1' };
      const [fired, cancelled] = await Promise.all([
        store.transition('s1', ['pending'], { status: 'firing', firing }),
        store.transition('s1', ['pending'], {
          status: 'cancelled',
          settled: { by: 'UBOB', at: 3 },
        }),
      ]);
      expect([fired, cancelled].filter((item) => item !== undefined)).toHaveLength(1);
      const now = await store.get('s1');
      if (now?.status === 'firing') {
        expect(now.firing).toEqual(firing);
        expect(await store.transition('s1', ['firing'], { status: 'fired' })).toMatchObject({
          status: 'fired',
          firing,
        });
      } else {
        expect(now).toMatchObject({ status: 'cancelled', settled: { by: 'UBOB', at: 3 } });
      }
      expect(await store.open()).toEqual([]);
      // Its target is free again.
      expect(await store.create(rollback('s2', 4000), asked)).toMatchObject({ ok: true });
    });

    it('lists open rollbacks soonest first, firing ones included', async () => {
      const store = await make();
      await store.create(rollback('late', 9000), asked);
      await store.create(rollback('soon', 1000, { service: 'billing' }), asked);
      await store.create(rollback('mid', 5000, { service: 'search' }), asked);
      await store.transition('mid', ['pending'], {
        status: 'firing',
        firing: { rollout: 'r', lockToken: 't', approval: 'a' },
      });
      expect((await store.open()).map((item) => `${item.id}:${item.status}`)).toEqual([
        'soon:pending',
        'mid:firing',
        'late:pending',
      ]);
    });
  });
}
