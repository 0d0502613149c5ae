import { describe, expect, it } from 'vitest';
import type { HistoryEntry, HistoryStore } from '../../src/app/store-ports.js';

const parser = { service: 'parser', environment: 'production' };
const entry = (
  rollout: string,
  version: string,
  over: Partial<HistoryEntry> = {},
): HistoryEntry => ({
  ...parser,
  rollout,
  kind: 'deploy',
  version,
  previousVersion: null,
  by: 'U1',
  startedAt: 1000,
  finishedAt: 2000,
  result: 'succeeded',
  ...over,
});

/** What every HistoryStore must do; run against Redis and against the in-memory store. */
export function historyStoreContract(name: string, make: () => Promise<HistoryStore>): void {
  describe(`HistoryStore contract: ${name}`, () => {
    it('lists a target’s rollouts newest first, up to the limit', async () => {
      const history = await make();
      for (const [rollout, version] of [
        ['r1', 'v1'],
        ['r2', 'v2'],
        ['r3', 'v3'],
      ] as const)
        expect(await history.record(entry(rollout, version))).toBe(true);
      expect((await history.list(parser, 2)).map((item) => item.version)).toEqual(['v3', 'v2']);
      expect(await history.list(parser, 10)).toEqual([
        entry('r3', 'v3'),
        entry('r2', 'v2'),
        entry('r1', 'v1'),
      ]);
    });

    it('keeps each target apart', async () => {
      const history = await make();
      await history.record(entry('r1', 'v1'));
      await history.record(entry('r2', 'v9', { environment: 'staging' }));
      expect((await history.list(parser, 10)).map((item) => item.rollout)).toEqual(['r1']);
      expect(await history.recorded({ ...parser, environment: 'staging' }, 'r1')).toBe(false);
      expect(await history.list({ service: 'billing', environment: 'production' }, 10)).toEqual([]);
    });

    it('records a rollout once, however often it is asked to', async () => {
      const history = await make();
      expect(await history.recorded(parser, 'r1')).toBe(false);
      expect(await history.record(entry('r1', 'v1'))).toBe(true);
      await history.record(entry('r2', 'v2'));
      expect(await history.record(entry('r1', 'v1', { result: 'halted' }))).toBe(false);
      expect(await history.recorded(parser, 'r1')).toBe(true);
      expect((await history.list(parser, 10)).map((item) => [item.rollout, item.result])).toEqual([
        ['r2', 'succeeded'],
        ['r1', 'succeeded'],
      ]);
    });
  });
}
