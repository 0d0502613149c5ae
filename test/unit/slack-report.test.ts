import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS, type Block, type SlackMessage } from '../../src/core/report/block-kit.js';
import { progressMessage } from '../../src/core/report/progress-message.js';
import {
  changed,
  newPacer,
  rateLimited,
  sendAt,
  sent,
} from '../../src/core/report/update-pacer.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block) => (block.type === 'section' ? [block.text.text] : []));
}

function actionIds(message: SlackMessage): string[] {
  return message.blocks.flatMap((block: Block) =>
    block.type === 'actions' ? block.elements.map((button) => button.action_id) : [],
  );
}

function withinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
  for (const text of sectionTexts(message))
    expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
  expect(JSON.stringify(message.blocks).length).toBeLessThan(LIMITS.messageCharacters);
  expect(message.text.length).toBeGreaterThan(0);
}

describe('the live progress message', () => {
  it('shows the change, a line per group and a Cancel button while running', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1 }, { hosts: 2, parallel: 2 }, { hosts: 1 }] })),
    );
    driver.hostSucceeds('g0', 'h1');
    const message = progressMessage(driver.state, driver.state.updatedAt + 2000, 'U0ALICE');
    expect(sectionTexts(message)).toEqual([
      '*deploy svc* `v1` → `v2` to *test*: running (2s)',
      '✅ *g0* healthy 1/1 · 0s',
      expect.stringMatching(/^🔄 \*g1\* restarting 0\/2 · 2s\n {6}now: h2, h3$/),
      '◻️ *g2* pending 1 host',
    ]);
    expect(message.blocks[1]).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: '3 groups · 4 hosts', verbatim: true },
        { type: 'mrkdwn', text: 'requested by <@U0ALICE>', verbatim: true },
      ],
    });
    expect(actionIds(message)).toEqual(['rollout.cancel']);
    expect(message.text).toBe('deploy svc v2 to test: running');
  });

  it('offers Continue and Abort at a gate, Roll back when done, nothing after a failure', () => {
    const driver = new RolloutDriver(
      planFor(fleetPlaybook({ groups: [{ hosts: 1, gate: 'manual' }, { hosts: 1 }] })),
    );
    driver.hostSucceeds('g0', 'h1');
    expect(actionIds(progressMessage(driver.state, 0))).toEqual([
      'rollout.continue',
      'rollout.abort',
    ]);
    driver.send({ type: 'gate.continued', group: 'g0', by: 'U2' });
    driver.hostSucceeds('g1', 'h2');
    expect(actionIds(progressMessage(driver.state, 0))).toEqual(['rollout.rollback']);
    const failing = new RolloutDriver(planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })), 'r2');
    failing.stepFails('g0', 'h1', 0, 'forward', 'disk <full> & more');
    failing.hostSucceeds('g0', 'h1', 'rollback');
    const message = progressMessage(failing.state, 0);
    expect(actionIds(message)).toEqual([]);
    expect(sectionTexts(message).at(-1)).toBe(
      '*Failed:* s0 failed on h1 (exit 1): disk &lt;full&gt; &amp; more',
    );
  });

  it('stays within Block Kit limits for a rollout of any size, summarising what does not fit', () => {
    const driver = new RolloutDriver(
      planFor(
        fleetPlaybook({ groups: Array.from({ length: 100 }, () => ({ hosts: 10, parallel: 10 })) }),
      ),
    );
    const message = progressMessage(driver.state, 0);
    withinLimits(message);
    expect(sectionTexts(message)).toContain('… 61 more groups: 61 pending');
    expect(sectionTexts(message).find((text) => text.includes('*g0*'))).toContain(
      'now: h1, h2, h3, h4, h5 and 5 more',
    );
  });

  it('never exceeds the limits, whatever the fleet (generated)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            hosts: fc.integer({ min: 1, max: 60 }),
            parallel: fc.integer({ min: 1, max: 60 }),
          }),
          // Without size: 'max' fast-check keeps arrays small, and big fleets would never be tried.
          { minLength: 1, maxLength: 120, size: 'max' },
        ),
        (groups) => {
          withinLimits(
            progressMessage(
              new RolloutDriver(planFor(fleetPlaybook({ groups, steps: 1 }))).state,
              0,
              'U1',
            ),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('pacing message updates', () => {
  it('sends the first change at once and coalesces the rest into one update a second', () => {
    let pacer = changed(newPacer());
    expect(sendAt(pacer)).toBe(0);
    pacer = sent(pacer, 100);
    for (let i = 0; i < 50; i++) pacer = changed(pacer);
    expect(sendAt(pacer)).toBe(1100);
    pacer = sent(pacer, 1100);
    expect(sendAt(pacer)).toBeUndefined();
  });

  it('waits out a 429 for as long as Retry-After says, then sends the newest state', () => {
    let pacer = sent(changed(newPacer()), 0);
    pacer = rateLimited(changed(pacer), 1000, 30);
    expect(sendAt(pacer)).toBe(31_000);
    pacer = changed(pacer);
    expect(sendAt(pacer)).toBe(31_000);
  });

  it('never sends two updates less than a second apart (generated sequences)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 100 }),
        (gaps) => {
          let pacer = newPacer();
          let now = 0;
          const sends: number[] = [];
          for (const gap of gaps) {
            now += gap;
            pacer = changed(pacer);
            const at = sendAt(pacer);
            if (at !== undefined && at <= now) {
              sends.push(now);
              pacer = sent(pacer, now);
            }
          }
          // The final state always lands: flush at the time the pacer says.
          const last = sendAt(pacer);
          if (last !== undefined) sends.push(Math.max(now, last));
          for (let i = 1; i < sends.length; i++)
            expect((sends[i] as number) - (sends[i - 1] as number)).toBeGreaterThanOrEqual(1000);
        },
      ),
    );
  });
});
