import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../src/core/report/block-kit.js';
import {
  approvalMessage,
  preformattedMessage,
  scheduleMessage,
  schedulesMessage,
  type ScheduleView,
} from '../../src/core/report/chat-messages.js';
import { progressMessage } from '../../src/core/report/progress-message.js';
import { planRollout, type Plan } from '../../src/core/rollout/index.js';
import { playbookFrom } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

/** Text a user could type, or a host could print, that Slack would turn into markup. */
const PIECES = [
  '<!channel>',
  '<!here>',
  '<!subteam^S123>',
  '<@U0MALLORY>',
  '<#C0GENERAL>',
  '<http://evil.example|v1.4>',
  '<mailto:a@evil.example|ops>',
  '&',
  '&lt;',
  '<',
  '>',
  '@channel',
  '#general',
  'http://evil.example/',
  '`',
  '*',
];
const userText = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), fc.stringMatching(/^[A-Za-z0-9.+:~@-]{1,5}$/)), {
    minLength: 1,
    maxLength: 5,
  })
  .map((parts) => parts.join(''));

/** What baton itself writes with angle brackets: the mentions it means, and dates. */
const BATONS_OWN = /^<(?:@(?:UALICE|UBOB)|!date\^\d+\^[^|<>]*\|[^<>]*)>$/;

/**
 * No markup in a message that baton did not put there: every `<…>` is one of baton's own, and
 * every mrkdwn text is verbatim (Slack makes no links or mentions out of it by itself).
 */
function onlyBatonsMarkup(message: SlackMessage): void {
  const texts: string[] = [message.text];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      if (object.type === 'mrkdwn') {
        expect(object.verbatim, JSON.stringify(object)).toBe(true);
        texts.push(String(object.text));
      }
      Object.values(object).forEach(walk);
    }
  };
  walk(message.blocks);
  for (const text of texts)
    for (const [index, char] of [...text].entries())
      if (char === '<') {
        const token = /^<[^<>]*>/.exec([...text].slice(index).join(''))?.[0] ?? '<';
        expect(token, `in ${JSON.stringify(text)}`).toMatch(BATONS_OWN);
      }
}

/** Every message a rollout of `plan` is shown in, in each of its states. */
function messagesOf(plan: Plan, detail = 'exit 1'): SlackMessage[] {
  const request = { requestedBy: 'UALICE', requestedAt: 0, expiresAt: 60_000 };
  const approvals = (['pending', 'expired', 'approved'] as const).map((status) =>
    approvalMessage({
      id: 'a1',
      plan,
      request: { ...request, status, decidedBy: 'UBOB', decidedAt: 1 },
      rollbackAfterMs: 60_000,
    }),
  );
  const running = new RolloutDriver(plan);
  const done = new RolloutDriver(plan);
  for (const group of plan.groups)
    for (const host of group.hosts) done.hostSucceeds(group.name, host.name, 'forward', 1);
  const failed = new RolloutDriver(plan);
  const first = plan.groups[0];
  failed.stepFails(first?.name ?? '', first?.hosts[0]?.name ?? '', 0, 'forward', detail);
  const schedule: ScheduleView = {
    id: 's1',
    service: plan.service,
    environment: plan.environment,
    version: plan.previousVersion ?? plan.version,
    runAt: 1000,
    requestedBy: 'UALICE',
    reason: 'rollback-after',
  };
  return [
    ...approvals,
    ...[running, done, failed].map((driver) => progressMessage(driver.state, 5000, 'UALICE')),
    scheduleMessage(schedule, 'pending'),
    scheduleMessage(schedule, { skipped: detail }),
    schedulesMessage([schedule]),
    preformattedMessage(`history of ${plan.service}: ${plan.version}`, [detail]),
  ];
}

const PERMISSIVE = playbookFrom({
  service: 'web',
  version_pattern: '^[\\s\\S]+$',
  steps: [{ name: 'install', run: 'install {{version}}' }],
  health: { tcp: { port: 80 } },
  environments: { production: { groups: [{ name: 'all', hosts: ['web-01'] }] } },
});

describe('user text in Slack messages', () => {
  it('a permissive version_pattern cannot produce a mention or a link (generated)', () => {
    fc.assert(
      fc.property(userText, fc.option(userText, { nil: null }), (version, previousVersion) => {
        const planned = planRollout(
          PERMISSIVE,
          { kind: 'deploy', service: 'web', version, previousVersion },
          0,
        );
        if (planned.ok) for (const message of messagesOf(planned.plan)) onlyBatonsMarkup(message);
      }),
      { numRuns: 300 },
    );
  });

  it('is escaped in every text and fallback, whatever a stored plan or a host says (generated)', () => {
    const base = planRollout(
      PERMISSIVE,
      { kind: 'deploy', service: 'web', version: 'v2', previousVersion: 'v1' },
      0,
    );
    if (!base.ok) throw new Error(base.error.message);
    fc.assert(
      fc.property(userText, userText, userText, (version, previousVersion, detail) => {
        const plan: Plan = { ...base.plan, version, previousVersion };
        for (const message of messagesOf(plan, detail)) onlyBatonsMarkup(message);
      }),
      { numRuns: 200 },
    );
  });
});
