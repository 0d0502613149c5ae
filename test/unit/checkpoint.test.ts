import { describe, expect, it } from 'vitest';
import {
  applyChange,
  changeBetween,
  fromCheckpoint,
  progressOf,
} from '../../src/core/rollout/index.js';
import type { RolloutState } from '../../src/core/rollout/index.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

const twoGroups = () => planFor(fleetPlaybook({ groups: [{ hosts: 2 }, { hosts: 2 }] }));

/** `state` with one host's record given an extra field, as a later version of the state might. */
function withHostField(state: RolloutState, group: number, host: number, value: string) {
  const groups = state.groups.map((entry, index) =>
    index !== group
      ? entry
      : {
          ...entry,
          hosts: entry.hosts.map((record, at) =>
            at === host ? { ...record, note: value } : record,
          ),
        },
  );
  return { ...state, groups, sequence: state.sequence + 1 } as RolloutState;
}

describe('a checkpoint change', () => {
  it('holds only the groups and hosts a transition touched', () => {
    const driver = new RolloutDriver(twoGroups());
    const before = driver.state;
    driver.send({ type: 'step.succeeded', group: 'g0', host: 'h1', pass: 'forward', step: 0 });
    const change = changeBetween(before, driver.state);
    expect(change.groups?.map((group) => group.index)).toEqual([0]);
    expect(change.groups?.[0]?.hosts?.map(([at]) => at)).toEqual([0]);
    expect(applyChange(before, change)).toEqual(driver.state);
  });

  it('carries every field of a host, including ones it was not written for', () => {
    const driver = new RolloutDriver(twoGroups());
    const before = driver.state;
    const after = withHostField(before, 1, 1, 'drained');
    const change = changeBetween(before, after);
    expect(change.groups).toHaveLength(1);
    expect(applyChange(before, change)).toEqual(after);
    expect(fromCheckpoint(before.plan, progressOf(before), [change])).toEqual(after);
  });

  it('carries every field of a group header too', () => {
    const driver = new RolloutDriver(twoGroups());
    const before = driver.state;
    const groups = before.groups.map((group, index) =>
      index === 1 ? { ...group, note: 'held' } : group,
    );
    const after = { ...before, groups, sequence: before.sequence + 1 } as RolloutState;
    expect(applyChange(before, changeBetween(before, after))).toEqual(after);
  });

  it('refuses to apply a change made from another sequence when rebuilding a checkpoint', () => {
    const driver = new RolloutDriver(twoGroups());
    const before = driver.state;
    const after = withHostField(before, 0, 0, 'x');
    const change = { ...changeBetween(before, after), from: before.sequence - 1 };
    expect(() => fromCheckpoint(before.plan, progressOf(before), [change])).toThrow(/change from/);
  });
});
