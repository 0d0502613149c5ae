import { describe, expect, it } from 'vitest';
import type { RolloutStore, StoredUpdate } from '../../src/app/store-ports.js';
import { startRollout, type RolloutState } from '../../src/core/rollout/index.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { wholeRollout } from '../support/whole-rollout.js';

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

/** Every state a whole rollout of `hosts` hosts in two groups goes through, all steps passing. */
function rolloutStates(id: string, hosts: number): RolloutState[] {
  const bigger = planFor(fleetPlaybook({ groups: [{ hosts, parallel: 2 }, { hosts }] }));
  const { first, steps } = wholeRollout(bigger, id);
  return [first, ...steps.map((step) => step.state)];
}

/** What every RolloutStore must do; run against Redis and against the in-memory store. */
export function rolloutStoreContract(
  name: string,
  make: () => Promise<RolloutStore>,
  /** Writes a whole state where releases before per-step changes kept it (the last store made). */
  writeWhole?: (state: RolloutState) => Promise<void>,
): void {
  describe(`RolloutStore contract: ${name}`, () => {
    if (writeWhole !== undefined)
      it('reads a whole checkpoint an earlier release wrote, and a resumed run goes on from it', async () => {
        const store = await make();
        const states = rolloutStates('r8', 2);
        await writeWhole(states[5] as RolloutState);
        const loaded = await store.load('r8');
        expect(loaded).toEqual(states[5]);
        expect(await store.save(loaded as RolloutState, loaded)).toBe(true);
        for (let index = 6; index < states.length; index++)
          expect(await store.save(states[index] as RolloutState, states[index - 1])).toBe(true);
        expect(await store.load('r8')).toEqual(states.at(-1));
      });

    it('keeps the newest checkpoint: an older one never overwrites it', async () => {
      const store = await make();
      expect(await store.load('r1')).toBeUndefined();
      expect(await store.save(state('r1', 5))).toBe(true);
      expect(await store.save(state('r1', 3))).toBe(false);
      expect((await store.load('r1'))?.sequence).toBe(5);
      expect(await store.save(state('r1', 6))).toBe(true);
      expect((await store.load('r1'))?.sequence).toBe(6);
    });

    it('stores each step as a change, and loads after many of them the state the machine reached', async () => {
      const store = await make();
      const states = rolloutStates('r4', 6);
      expect(states.length).toBeGreaterThan(50);
      expect(await store.save(states[0] as RolloutState)).toBe(true);
      for (let index = 1; index < states.length; index++) {
        expect(await store.save(states[index] as RolloutState, states[index - 1])).toBe(true);
        if (index === 20) expect(await store.load('r4')).toEqual(states[20]);
      }
      const last = states.at(-1) as RolloutState;
      expect(last.status).toBe('succeeded');
      expect(await store.load('r4')).toEqual(last);
    });

    it('stores several transitions as one change, onto the checkpoint they were made from', async () => {
      const store = await make();
      const states = rolloutStates('r10', 3);
      await store.save(states[0] as RolloutState);
      expect(await store.save(states[4] as RolloutState, states[0])).toBe(true);
      expect(await store.load('r10')).toEqual(states[4]);
      // Made from a checkpoint the store has moved past: refused, as a single step would be.
      expect(await store.save(states[6] as RolloutState, states[2])).toBe(false);
      expect(await store.save(states[7] as RolloutState, states[4])).toBe(true);
      for (let index = 8; index < states.length; index++)
        expect(await store.save(states[index] as RolloutState, states[index - 1])).toBe(true);
      expect(await store.load('r10')).toEqual(states.at(-1));
    });

    it('refuses a change made from any checkpoint but the newest (a stale sequence)', async () => {
      const store = await make();
      const states = rolloutStates('r5', 2) as [RolloutState, RolloutState, RolloutState];
      await store.save(states[0]);
      expect(await store.save(states[1], states[0])).toBe(true);
      expect(await store.save(states[2], states[1])).toBe(true);
      // Another run's transition from a checkpoint since replaced: refused, whatever its content.
      const forked = { ...states[2], status: 'halted' as const, updatedAt: 1 };
      expect(await store.save(forked, states[1])).toBe(false);
      expect(await store.save(states[1], states[0])).toBe(false);
      // Nor does a change that skips a sequence land on top.
      const ahead = { ...states[2], sequence: states[2].sequence + 2 };
      expect(await store.save({ ...ahead, sequence: ahead.sequence + 1 }, ahead)).toBe(false);
      expect(await store.load('r5')).toEqual(states[2]);
    });

    it('takes the same change twice (a retry whose answer was lost) as stored once', async () => {
      const store = await make();
      const states = rolloutStates('r6', 2) as [RolloutState, RolloutState, RolloutState];
      await store.save(states[0]);
      expect(await store.save(states[1], states[0])).toBe(true);
      expect(await store.save(states[1], states[0])).toBe(true);
      expect(await store.save(states[2], states[1])).toBe(true);
      expect(await store.load('r6')).toEqual(states[2]);
    });

    it('starts again from a whole progress when a run resumes, dropping the changes before it', async () => {
      const store = await make();
      const states = rolloutStates('r7', 3);
      await store.save(states[0] as RolloutState);
      for (let index = 1; index <= 10; index++)
        await store.save(states[index] as RolloutState, states[index - 1]);
      const resumed = await store.load('r7');
      expect(resumed).toEqual(states[10]);
      expect(await store.save(resumed as RolloutState)).toBe(true);
      for (let index = 11; index < states.length; index++)
        expect(await store.save(states[index] as RolloutState, states[index - 1])).toBe(true);
      expect(await store.load('r7')).toEqual(states.at(-1));
    });

    it('appends the updates saved with a checkpoint when it is stored, in order, and only then', async () => {
      const store = await make();
      const states = rolloutStates('r9', 2) as [RolloutState, RolloutState, RolloutState];
      const read = async () => (await store.read('r9', '0', 0)).map((entry) => entry.update);
      expect(await store.save(states[0], undefined, [update(0)])).toBe(true);
      expect(await store.save(states[1], states[0], [update(1), update(2)])).toBe(true);
      // Sent again after its answer was lost: stored already, its updates too.
      expect(await store.save(states[1], states[0], [update(1), update(2)])).toBe(true);
      // Refused (another run took it over): none of its updates reach followers.
      const forked = { ...states[1], status: 'halted' as const, updatedAt: 1 };
      expect(await store.save(forked, states[0], [update(9)])).toBe(false);
      expect(await store.save(states[2], states[1], [])).toBe(true);
      expect(await store.save(states[0], undefined, [update(8)])).toBe(false);
      expect(await read()).toEqual([update(0), update(1), update(2)]);
      // An update with every character JSON escapes arrives as it was sent.
      const awkward = { ...update(3), worker: 'quote " backslash \\ newline \n tab \t é ☃' };
      const next = { ...states[2], sequence: states[2].sequence + 1, updatedAt: 5 };
      expect(await store.save(next, states[2], [awkward])).toBe(true);
      expect((await store.read('r9', '0', 0)).at(-1)?.update).toEqual(awkward);
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
