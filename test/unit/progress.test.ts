import { describe, expect, it } from 'vitest';
import type { RolloutUpdate } from '../../src/app/worker/run-rollout.js';
import { formatElapsed } from '../../src/cli/progress/describe-update.js';
import { groupLines } from '../../src/cli/progress/group-lines.js';
import { hostSummary } from '../../src/cli/progress/host-summary.js';
import { jsonReporter, plainReporter, ttyReporter } from '../../src/cli/progress/reporters.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

function failedRollout(onFailure: 'halt' | 'rollback_group') {
  const driver = new RolloutDriver(
    planFor(fleetPlaybook({ groups: [{ hosts: 1 }, { hosts: 3, parallel: 2 }], onFailure })),
  );
  driver.hostSucceeds('g0', 'h1');
  driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 0 });
  driver.stepFails('g1', 'h3', 0, 'forward', 'disk full');
  driver.send({ type: 'step.succeeded', group: 'g1', host: 'h2', pass: 'forward', step: 1 });
  return driver;
}

describe('where every host was left', () => {
  it('after a halt, names the hosts left part-way and where', () => {
    const { state } = failedRollout('halt');
    expect(hostSummary(state)).toEqual([
      '  on v2: h1',
      '  NEEDS A LOOK (left part-way): h2 (stopped after its steps, not healthy), h3 (failed at s0: s0 failed on h3 (exit 1): disk full)',
      '  untouched: h4',
    ]);
  });

  it('after a rollback, says which hosts are back on the old version', () => {
    const driver = failedRollout('rollback_group');
    driver.hostSucceeds('g1', 'h3', 'rollback');
    driver.hostSucceeds('g1', 'h2', 'rollback');
    expect(driver.state.status).toBe('rolled_back');
    expect(hostSummary(driver.state)).toEqual([
      '  on v2: h1',
      '  back on v1: h2, h3',
      '  untouched: h4',
    ]);
  });
});

describe('group lines', () => {
  it('show each group with its progress and time', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1 }, { hosts: 2, parallel: 2 }, { hosts: 1 }] })),
    );
    driver.hostSucceeds('g0', 'h1');
    driver.hostSucceeds('g1', 'h2');
    expect(groupLines(driver.state, driver.state.updatedAt + 1500)).toEqual([
      '  g0  ✓ healthy  1/1  0.1s',
      expect.stringMatching(/^ {2}g1 {2}⟳ restarting {2}1\/2 {2}\d+\.\ds$/),
      '  g2  · pending',
    ]);
  });

  it('format elapsed time for people', () => {
    expect(formatElapsed(4200)).toBe('4.2s');
    expect(formatElapsed(187_000)).toBe('3m07s');
  });
});

describe('reporters', () => {
  const driver = new RolloutDriver(planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })));
  const update: RolloutUpdate = {
    kind: 'event',
    event: { type: 'step.succeeded', group: 'g0', host: 'h1', pass: 'forward', step: 0, at: 5 },
    state: driver.state,
  };

  it('plain: one readable line per notable update', () => {
    const lines: string[] = [];
    plainReporter((text) => lines.push(text))(update);
    expect(lines).toEqual(['g0 h1: s0 ok\n']);
  });

  it('json: every update, with rollout, worker and time', () => {
    const lines: string[] = [];
    jsonReporter((text) => lines.push(text), 'box:42')(update);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      type: 'step.succeeded',
      group: 'g0',
      host: 'h1',
      pass: 'forward',
      step: 0,
      at: 5,
      rollout: 'r1',
      status: 'running',
      worker: 'box:42',
    });
  });

  it('tty: redraws the group lines in place', () => {
    const writes: string[] = [];
    const report = ttyReporter(
      (text) => writes.push(text),
      () => 1000,
    );
    report(update);
    report(update);
    expect(writes[0]).not.toContain('\x1b[');
    expect(writes[1]?.startsWith('\x1b[1F\x1b[0J')).toBe(true);
    expect(writes[1]).toContain('g0  ⟳ restarting  0/1');
  });
});
