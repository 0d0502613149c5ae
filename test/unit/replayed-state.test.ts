import { describe, expect, it } from 'vitest';
import { ReplayedState } from '../../src/app/replayed-state.js';
import type { StoredUpdate } from '../../src/app/store-ports.js';
import type { RolloutState } from '../../src/core/rollout/index.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { wholeRollout, type RolloutStep } from '../support/whole-rollout.js';

/** A whole rollout as a worker reports it: each event with the state it led to. */
const reported = () =>
  wholeRollout(planFor(fleetPlaybook({ groups: [{ hosts: 3, parallel: 2 }, { hosts: 2 }] })), 'r1');

const update = (step: RolloutStep): StoredUpdate => ({
  kind: 'event',
  event: step.event,
  sequence: step.state.sequence,
  worker: 'w',
});

describe('a follower replaying a rollout from its updates', () => {
  it('loads the checkpoint once, then reaches every state the worker stored by replaying', async () => {
    const { first, steps } = reported();
    const follower = new ReplayedState(async () => structuredClone(first));
    for (const step of steps) expect(await follower.after(update(step))).toEqual(step.state);
    expect(steps.at(-1)?.state.status).toBe('succeeded');
    expect(follower.loads).toBe(1);
  });

  it('reloads when it missed an update (a gap in the sequence), and goes on replaying from there', async () => {
    const { first, steps } = reported();
    let stored = first;
    const follower = new ReplayedState(async () => structuredClone(stored));
    for (const step of steps.slice(0, 5)) await follower.after(update(step));
    expect(follower.loads).toBe(1);
    // The update of step 6 was lost; the checkpoint has moved on to step 7.
    stored = steps[6]?.state as RolloutState;
    expect(await follower.after(update(steps[6] as never))).toEqual(steps[6]?.state);
    expect(follower.loads).toBe(2);
    for (const step of steps.slice(7))
      expect(await follower.after(update(step))).toEqual(step.state);
    expect(follower.loads).toBe(2);
  });

  it('takes updates it has already seen, and announcements, without loading again', async () => {
    const { first, steps } = reported();
    const follower = new ReplayedState(async () => structuredClone(first));
    const [one, two] = steps as [(typeof steps)[0], (typeof steps)[0]];
    await follower.after(update(one));
    await follower.after(update(two));
    expect(await follower.after(update(one))).toEqual(two.state);
    expect(
      await follower.after({
        kind: 'announcement',
        announcement: { type: 'group.started', group: 'g0' },
        at: 1,
        sequence: two.state.sequence,
        worker: 'w',
      }),
    ).toEqual(two.state);
    expect(follower.loads).toBe(1);
  });
});
