import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/core/report/block-kit.js';
import {
  approvalMessage,
  scheduleMessage,
  schedulesMessage,
  who,
  type ScheduleView,
} from '../../src/core/report/chat-messages.js';
import type { SlackMessage } from '../../src/core/report/block-kit.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';

const plan = {
  ...planFor(fleetPlaybook({ groups: [{ hosts: 1 }, { hosts: 3 }] })),
  previousVersion: 'v1',
};
const pending = {
  id: 'a1',
  plan,
  request: {
    requestedBy: 'UALICE',
    requestedAt: 0,
    expiresAt: 30 * 60_000,
    status: 'pending' as const,
  },
};
const buttons = (message: SlackMessage) =>
  message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
const text = (message: SlackMessage) => JSON.stringify(message.blocks);

describe('who', () => {
  it('mentions Slack users and shows anything else as escaped text', () => {
    expect(who('UALICE')).toBe('<@UALICE>');
    expect(who('W0AB12 (scheduled)')).toBe('<@W0AB12> (scheduled)');
    expect(who('terminal:root@vm')).toBe('terminal:root@vm');
    expect(who('<!channel>')).toBe('&lt;!channel&gt;');
  });
});

describe('approvalMessage', () => {
  it('asks with Approve (behind a confirmation), Reject and Withdraw while pending', () => {
    const message = approvalMessage(pending);
    expect(buttons(message).map((button) => button.action_id)).toEqual([
      'approval.approve',
      'approval.reject',
      'approval.withdraw',
    ]);
    expect(buttons(message)[0]?.confirm?.confirm.text).toBe('Approve and deploy');
    expect(buttons(message).every((button) => button.value === 'a1')).toBe(true);
    expect(text(message)).toContain('`v1` → `v2`');
    expect(text(message)).toContain('2 groups, 4 hosts: g0 (1) → g1 (3)');
    expect(text(message)).toContain('requested by <@UALICE>');
  });

  it('says who decided and when, with no buttons left', () => {
    for (const status of ['approved', 'rejected', 'withdrawn'] as const) {
      const message = approvalMessage({
        ...pending,
        request: { ...pending.request, status, decidedBy: 'UBOB', decidedAt: 60_000 },
      });
      expect(buttons(message)).toEqual([]);
      expect(text(message)).toMatch(/by <@UBOB> <!date\^60\^/);
    }
  });

  it('says an expired request expired, and how to ask again', () => {
    const message = approvalMessage({
      ...pending,
      request: { ...pending.request, status: 'expired', decidedAt: 30 * 60_000 },
    });
    expect(buttons(message)).toEqual([]);
    expect(text(message)).toContain('nobody decided within 30m');
    expect(text(message)).toContain(`/deploy ${plan.service} v2 to ${plan.environment}`);
  });
});

describe('Block Kit limits', () => {
  it('keeps an approval request within them for any fleet (generated)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ hosts: fc.integer({ min: 1, max: 60 }) }), {
          minLength: 1,
          maxLength: 120,
          // Without it fast-check keeps arrays small, and big fleets would never be tried.
          size: 'max',
        }),
        fc.constantFrom('pending', 'approved', 'expired'),
        (groups, status) => {
          const message = approvalMessage({
            ...pending,
            plan: planFor(fleetPlaybook({ groups, steps: 1 })),
            request: { ...pending.request, status, decidedBy: 'UBOB', decidedAt: 1 },
            rollbackAfterMs: 1_800_000,
          });
          expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
          for (const block of message.blocks) {
            if (block.type === 'section')
              expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
            if (block.type === 'context')
              expect(block.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
            if (block.type === 'actions')
              for (const button of block.elements)
                expect(button.confirm?.text.text.length ?? 0).toBeLessThanOrEqual(
                  LIMITS.confirmText,
                );
          }
          expect(JSON.stringify(message.blocks).length).toBeLessThan(LIMITS.messageCharacters);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('schedule messages', () => {
  const schedule = (n: number, reason: ScheduleView['reason'] = 'scheduled'): ScheduleView => ({
    id: `s${n}`,
    service: 'parser',
    environment: 'production',
    runAt: n * 1000,
    requestedBy: 'UALICE',
    reason,
  });

  it('offers Cancel on a scheduled rollback and Keep on a dead-man one', () => {
    expect(buttons(scheduleMessage(schedule(1), 'pending'))[0]?.action_id).toBe('schedule.cancel');
    expect(buttons(scheduleMessage(schedule(1, 'rollback-after'), 'pending'))[0]?.action_id).toBe(
      'schedule.keep',
    );
    const cancelled = scheduleMessage(schedule(1), { cancelledBy: 'UBOB', at: 5000 });
    expect(buttons(cancelled)).toEqual([]);
    expect(text(cancelled)).toContain('Cancelled by <@UBOB>');
    expect(
      text(scheduleMessage(schedule(1, 'rollback-after'), { cancelledBy: 'UBOB', at: 5000 })),
    ).toContain('Kept by');
  });

  it('lists any number of schedules within Slack’s 50 blocks, counting the rest', () => {
    expect(schedulesMessage([]).text).toBe('No scheduled rollbacks.');
    const many = schedulesMessage(Array.from({ length: 30 }, (_, n) => schedule(n)));
    expect(many.blocks.length).toBeLessThanOrEqual(50);
    expect(buttons(many)).toHaveLength(24);
    expect(text(many)).toContain('and 6 more');
  });
});
