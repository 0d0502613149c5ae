import { describe, expect, it } from 'vitest';
import type { LockHolder, LockStore } from '../../src/app/store-ports.js';

const target = { service: 'parser', environment: 'production' };
const holder = (token: string, owner = 'U1'): LockHolder => ({
  token,
  owner,
  reason: 'deploy v2',
  since: 1000,
  rollout: 'r1',
});

/** What every LockStore must do; run against Redis and against the in-memory store. */
export function lockStoreContract(
  name: string,
  make: () => Promise<{ locks: LockStore; pass(ms: number): Promise<void> }>,
): void {
  describe(`LockStore contract: ${name}`, () => {
    it('gives a free lock, and refuses it to another holder, saying who has it', async () => {
      const { locks } = await make();
      expect(await locks.acquire(target, holder('a'), 60_000)).toEqual({ ok: true });
      expect(await locks.acquire(target, holder('b', 'U2'), 60_000)).toEqual({
        ok: false,
        holder: holder('a'),
      });
      expect(await locks.get(target)).toEqual(holder('a'));
    });

    it('lets the holder take it again (a resumed rollout keeps its lock)', async () => {
      const { locks } = await make();
      await locks.acquire(target, holder('a'), 60_000);
      expect(await locks.acquire(target, holder('a'), 60_000)).toEqual({ ok: true });
    });

    it('refreshes and releases only for the holder', async () => {
      const { locks } = await make();
      await locks.acquire(target, holder('a'), 60_000);
      expect(await locks.refresh(target, 'b', 60_000)).toBe(false);
      expect(await locks.release(target, 'b')).toBe(false);
      expect(await locks.refresh(target, 'a', 60_000)).toBe(true);
      expect(await locks.release(target, 'a')).toBe(true);
      expect(await locks.get(target)).toBeUndefined();
      expect(await locks.refresh(target, 'a', 60_000)).toBe(false);
    });

    it('force-release removes any holder and says who it was', async () => {
      const { locks } = await make();
      await locks.acquire(target, holder('a'), 60_000);
      expect(await locks.forceRelease(target)).toEqual(holder('a'));
      expect(await locks.forceRelease(target)).toBeUndefined();
      expect(await locks.acquire(target, holder('b'), 60_000)).toEqual({ ok: true });
    });

    it('lapses after its time unless refreshed', async () => {
      const { locks, pass } = await make();
      await locks.acquire(target, holder('a'), 300);
      await pass(150);
      expect(await locks.refresh(target, 'a', 300)).toBe(true);
      await pass(200);
      expect(await locks.get(target)).toEqual(holder('a'));
      await pass(250);
      expect(await locks.get(target)).toBeUndefined();
      expect(await locks.acquire(target, holder('b'), 300)).toEqual({ ok: true });
    });

    it('keeps service+environment pairs apart', async () => {
      const { locks } = await make();
      await locks.acquire(target, holder('a'), 60_000);
      expect(
        await locks.acquire({ ...target, environment: 'staging' }, holder('b'), 60_000),
      ).toEqual({ ok: true });
      expect(await locks.acquire({ ...target, service: 'web' }, holder('c'), 60_000)).toEqual({
        ok: true,
      });
    });
  });
}
