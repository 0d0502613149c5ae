import { describe, expect, it } from 'vitest';
import type { RolloutStore, StoredUpdate } from '../../src/app/store-ports.js';
import { startRollout } from '../../src/core/rollout/index.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';

const plan = planFor(fleetPlaybook({ groups: [{ hosts: 1 }, { hosts: 1 }] }));
const state = (id: string, sequence: number) => ({
  ...startRollout(plan, id, 1000).state,
  sequence,
});
const update = (n: number): StoredUpdate => ({
  kind: 'announcement',
  announcement: { type: 'group.started', group: `g${n}` },
  at: n,
  sequence: n,
  worker: 'w',
});

/** What every RolloutStore must do; run against Redis and against the in-memory store. */
export function rolloutStoreContract(name: string, make: () => Promise<RolloutStore>): void {
  describe(`RolloutStore contract: ${name}`, () => {
    it('keeps the newest checkpoint: an older one never overwrites it', async () => {
      const store = await make();
      expect(await store.load('r1')).toBeUndefined();
      await store.save(state('r1', 5));
      await store.save(state('r1', 3));
      expect((await store.load('r1'))?.sequence).toBe(5);
      await store.save(state('r1', 6));
      expect((await store.load('r1'))?.sequence).toBe(6);
    });

    it('reads updates in order from a cursor, and does not wait when told not to', async () => {
      const store = await make();
      expect(await store.read('r2', '0', 0)).toEqual([]);
      for (const n of [1, 2, 3]) await store.append('r2', update(n));
      const all = await store.read('r2', '0', 0);
      expect(all.map((entry) => entry.update)).toEqual([update(1), update(2), update(3)]);
      const rest = await store.read('r2', all[0]?.cursor ?? '', 0);
      expect(rest.map((entry) => entry.update)).toEqual([update(2), update(3)]);
      expect(await store.read('r2', all[2]?.cursor ?? '', 0)).toEqual([]);
    });

    it('remembers who asked to cancel, and gate answers per group', async () => {
      const store = await make();
      expect(await store.cancelRequestedBy('r3')).toBeUndefined();
      await store.requestCancel('r3', 'UBOB');
      expect(await store.cancelRequestedBy('r3')).toBe('UBOB');
      await store.answerGate('r3', 'canary', { continue: true, by: 'UALICE' });
      expect(await store.gateAnswer('r3', 'canary')).toEqual({ continue: true, by: 'UALICE' });
      expect(await store.gateAnswer('r3', 'a')).toBeUndefined();
    });
  });
}
