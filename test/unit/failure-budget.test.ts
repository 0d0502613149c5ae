import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatSourceProblem,
  parsePlaybookText,
  type Playbook,
} from '../../src/core/playbook/index.js';
import { openApproval } from '../../src/core/policy/index.js';
import { approvalMessage } from '../../src/core/report/chat-messages.js';
import {
  allowedUnreachable,
  describePlan,
  planRollout,
  PlanSchema,
  withinBudget,
  type Plan,
} from '../../src/core/rollout/index.js';

function parser(extra = ''): Playbook {
  const text = readFileSync(new URL('../../playbooks/parser.yml', import.meta.url), 'utf8');
  const result = parsePlaybookText(
    extra === '' ? text : text.replace('  production:\n', `  production:\n${extra}`),
    'parser.yml',
  );
  if (!result.ok) throw new Error(result.problems.map(formatSourceProblem).join('\n'));
  return result.playbook;
}

function problems(extra: string): string[] {
  const text = readFileSync(new URL('../../playbooks/parser.yml', import.meta.url), 'utf8');
  const result = parsePlaybookText(
    text.replace('  production:\n', `  production:\n${extra}`),
    'bad.yml',
  );
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(formatSourceProblem);
}

const deploy = {
  kind: 'deploy' as const,
  service: 'parser',
  version: 'v1.4',
  previousVersion: 'v1.3',
};

function plan(playbook: Playbook, only?: { hosts?: string[]; groups?: string[] }): Plan {
  const result = planRollout(playbook, { ...deploy, ...(only === undefined ? {} : { only }) }, 1);
  if (!result.ok) throw new Error(result.error.message);
  return result.plan;
}

function refusal(only: { hosts?: string[]; groups?: string[] }): string {
  const result = planRollout(parser(), { ...deploy, only }, 1);
  if (result.ok) throw new Error('expected a refusal');
  expect(result.error.code).toBe('unknown_host_or_group');
  return result.error.message;
}

const hostNames = (of: Plan): string[][] =>
  of.groups.map((group) => group.hosts.map((host) => host.name));

describe('max_unreachable in the playbook', () => {
  it('takes a count or a whole percentage', () => {
    expect(parser('    max_unreachable: 2\n').environments[0]?.maxUnreachable).toEqual({
      count: 2,
    });
    expect(parser("    max_unreachable: '25%'\n").environments[0]?.maxUnreachable).toEqual({
      percent: 25,
    });
    expect(parser().environments[0]?.maxUnreachable).toBeUndefined();
  });

  it.each([
    ['-1', /max_unreachable counts hosts: 0 or more/],
    ['1.5', /environments\.production\.max_unreachable/],
    ["'150%'", /whole number from 0 to 100 with %/],
    ["'2.5%'", /whole number from 0 to 100 with %/],
    ["'ten'", /whole number from 0 to 100 with %/],
  ])('refuses max_unreachable: %s with its path', (value, message) => {
    const found = problems(`    max_unreachable: ${value}\n`);
    expect(found.join('\n')).toMatch(/environments\.production\.max_unreachable/);
    expect(found.join('\n')).toMatch(message);
  });

  it('suggests the key when it is misspelt', () => {
    expect(problems('    max_unreachble: 1\n').join('\n')).toMatch(/max_unreachable/);
  });
});

describe('the budget arithmetic', () => {
  it.each([
    [undefined, 10, 0],
    [{ count: 0 }, 10, 0],
    [{ count: 2 }, 10, 2],
    [{ count: 20 }, 10, 10],
    [{ percent: 10 }, 10, 1],
    [{ percent: 10 }, 9, 0],
    [{ percent: 10 }, 19, 1],
    [{ percent: 10 }, 20, 2],
    [{ percent: 29 }, 100, 29],
    [{ percent: 57 }, 100, 57],
    [{ percent: 33 }, 3, 0],
    [{ percent: 34 }, 3, 1],
    [{ percent: 50 }, 5, 2],
    [{ percent: 100 }, 7, 7],
    [{ percent: 0 }, 7, 0],
  ])('%j of %i hosts allows %i (rounded down)', (budget, hosts, allowed) => {
    expect(allowedUnreachable(budget, hosts)).toBe(allowed);
  });

  it('is worked out over the hosts the rollout covers, and kept in the plan', () => {
    const playbook = parser("    max_unreachable: '50%'\n");
    expect(plan(playbook).unreachable).toEqual({ allowed: 2, written: '50%' });
    expect(plan(playbook, { groups: ['a'] }).unreachable).toEqual({ allowed: 1, written: '50%' });
    expect(plan(parser()).unreachable).toBeUndefined();
  });
});

describe('what pre-flight failures do to a plan', () => {
  const failure = (host: string) => ({ host, detail: `${host}: connection refused` });

  it('leaves nothing out and changes nothing when every host answers', () => {
    const planned = plan(parser('    max_unreachable: 1\n'));
    expect(withinBudget(planned, [])).toEqual({ ok: true, plan: planned, notUpdated: [] });
  });

  it('leaves out the unreachable hosts within the budget, naming them and their groups', () => {
    const planned = plan(parser('    max_unreachable: 2\n'));
    const decision = withinBudget(planned, [
      failure('parser-03.prod.internal'),
      failure('parser-01.prod.internal'),
    ]);
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    // The canary group had only the unreachable host: it is gone, and the rest keep their order.
    expect(hostNames(decision.plan)).toEqual([
      ['parser-02.prod.internal'],
      ['parser-04.prod.internal:2200', 'parser-05.prod.internal'],
    ]);
    expect(decision.plan.groups[0]?.parallel).toBe(1);
    expect(decision.notUpdated).toEqual([
      {
        host: 'parser-01.prod.internal',
        group: 'canary',
        detail: 'parser-01.prod.internal: connection refused',
      },
      {
        host: 'parser-03.prod.internal',
        group: 'a',
        detail: 'parser-03.prod.internal: connection refused',
      },
    ]);
    expect(decision.plan.notUpdated).toEqual(decision.notUpdated);
    // It is still a plan a checkpoint can hold.
    expect(PlanSchema.parse(decision.plan)).toEqual(decision.plan);
  });

  it('refuses over the budget, saying how many and what the budget allows', () => {
    const planned = plan(parser("    max_unreachable: '20%'\n"));
    const decision = withinBudget(planned, [
      failure('parser-02.prod.internal'),
      failure('parser-05.prod.internal'),
    ]);
    expect(decision).toEqual({
      ok: false,
      summary: '2 hosts of 5 cannot be connected to, more than max_unreachable 20% allows (1)',
      detail: [
        'parser-02.prod.internal: connection refused',
        'parser-05.prod.internal: connection refused',
      ],
    });
  });

  it('refuses any unreachable host without a budget, in the words it always had', () => {
    expect(withinBudget(plan(parser()), [failure('parser-05.prod.internal')])).toEqual({
      ok: false,
      detail: ['parser-05.prod.internal: connection refused'],
    });
    const zero = withinBudget(plan(parser('    max_unreachable: 0\n')), [
      failure('parser-05.prod.internal'),
    ]);
    expect(zero.ok).toBe(false);
    if (zero.ok) return;
    expect(zero.summary).toBe(
      '1 host of 5 cannot be connected to, more than max_unreachable 0 allows (0)',
    );
  });

  it('refuses when no host at all is left, even with room in the budget', () => {
    const planned = plan(parser("    max_unreachable: '100%'\n"), { groups: ['a'] });
    const decision = withinBudget(planned, [
      failure('parser-02.prod.internal'),
      failure('parser-03.prod.internal'),
    ]);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.summary).toBe('none of the hosts can be connected to (2 of 2)');
  });
});

describe('--hosts and --groups in the planner', () => {
  it('keeps only the named groups, in the playbook order', () => {
    const planned = plan(parser(), { groups: ['b', 'canary'] });
    expect(planned.groups.map((group) => group.name)).toEqual(['canary', 'b']);
    expect(planned.only).toEqual({ groups: ['b', 'canary'] });
  });

  it('keeps only the named hosts, by full name, address or short name', () => {
    const planned = plan(parser(), { hosts: ['parser-03', 'parser-04.prod.internal:2200'] });
    expect(hostNames(planned)).toEqual([
      ['parser-03.prod.internal'],
      ['parser-04.prod.internal:2200'],
    ]);
    expect(planned.groups[0]?.parallel).toBe(1);
    expect(hostNames(plan(parser(), { hosts: ['parser-04.prod.internal'] }))).toEqual([
      ['parser-04.prod.internal:2200'],
    ]);
  });

  it('takes both: the hosts must be in the groups', () => {
    expect(hostNames(plan(parser(), { groups: ['a'], hosts: ['parser-02'] }))).toEqual([
      ['parser-02.prod.internal'],
    ]);
    expect(refusal({ groups: ['a'], hosts: ['parser-05'] })).toBe(
      'parser-05.prod.internal is in group b, which --groups leaves out (a).',
    );
  });

  it('refuses unknown names with a did-you-mean hint', () => {
    expect(refusal({ groups: ['canery'] })).toBe(
      "production has no group 'canery'; it has canary, a, b. Did you mean 'canary'?",
    );
    expect(refusal({ hosts: ['parser-6'] })).toMatch(
      /^production has no host 'parser-6'; it has parser-01\.prod\.internal, .*\. Did you mean 'parser-01'\?$/,
    );
    expect(refusal({ hosts: ['parsr-03'] })).toMatch(/Did you mean 'parser-03'\?$/);
    expect(refusal({ hosts: ['zzz'] })).not.toMatch(/Did you mean/);
  });

  it('refuses a short name that several hosts share', () => {
    const playbook = parser().environments[0] as Playbook['environments'][number];
    const twins: Playbook = {
      ...parser(),
      environments: [
        {
          ...playbook,
          groups: [
            {
              name: 'all',
              parallel: 1,
              gate: 'auto',
              hosts: [
                { name: 'web.eu.internal', address: 'web.eu.internal', port: 22 },
                { name: 'web.us.internal', address: 'web.us.internal', port: 22 },
              ],
            },
          ],
        },
      ],
    };
    const result = planRollout(twins, { ...deploy, only: { hosts: ['web'] } }, 1);
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'unknown_host_or_group',
        message: "'web' could be any of web.eu.internal, web.us.internal; name one in full.",
      },
    });
  });

  it('shows the filter and the budget in the plan a person reads', () => {
    const text = describePlan(
      plan(parser('    max_unreachable: 1\n'), { groups: ['a'], hosts: ['parser-03'] }),
    );
    expect(text).toContain('only: --groups a --hosts parser-03');
    expect(text).toContain(
      'unreachable hosts: up to 1 left out, not updated (max_unreachable 1); more refuse the rollout',
    );
    expect(describePlan(plan(parser()))).toContain(
      'unreachable hosts: any one refuses the rollout (max_unreachable 0)',
    );
  });
});

describe('the approval request', () => {
  it('shows the part of the fleet and how many unreachable hosts may be left out', () => {
    const playbook = parser("    max_unreachable: '50%'\n");
    const planned = plan(playbook, { groups: ['a', 'b'] });
    const message = approvalMessage({
      id: 'ap1',
      plan: planned,
      request: openApproval(playbook.environments[0] as Playbook['environments'][number], 'U1', 0),
    });
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('only --groups a,b');
    expect(text).toContain(
      'up to 2 unreachable hosts may be left out, not updated (max_unreachable 50%)',
    );
    const plain = JSON.stringify(
      approvalMessage({
        id: 'ap2',
        plan: plan(parser()),
        request: openApproval(
          parser().environments[0] as Playbook['environments'][number],
          'U1',
          0,
        ),
      }).blocks,
    );
    expect(plain).not.toContain('unreachable');
    expect(plain).not.toContain('only');
  });
});
