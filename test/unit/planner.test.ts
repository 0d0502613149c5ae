import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlaybookText, type Playbook } from '../../src/core/playbook/index.js';
import { describePlan, planRollout, PlanSchema } from '../../src/core/rollout/index.js';
import { shellQuote } from '../../src/core/shell.js';
import { planFor, playbookFrom } from '../support/playbooks.js';

function parser(): Playbook {
  const result = parsePlaybookText(
    readFileSync(new URL('../../playbooks/parser.yml', import.meta.url), 'utf8'),
    'parser.yml',
  );
  if (!result.ok) throw new Error('parser.yml is invalid');
  return result.playbook;
}

const request = {
  kind: 'deploy' as const,
  service: 'parser',
  version: 'v1.4',
  previousVersion: 'v1.3',
};

describe('planRollout', () => {
  it('orders the groups, substitutes every value and keeps parallelism', () => {
    const result = planRollout(parser(), request, 42);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { plan } = result;
    expect(plan).toMatchObject({
      kind: 'deploy',
      service: 'parser',
      environment: 'production',
      version: 'v1.4',
      previousVersion: 'v1.3',
      createdAt: 42,
      onFailure: 'rollback_group',
      sshUser: 'deploy',
    });
    expect(
      plan.groups.map((group) => [group.name, group.parallel, group.gate, group.hosts.length]),
    ).toEqual([
      ['canary', 1, 'manual', 1],
      ['a', 2, 'auto', 2],
      ['b', 1, 'auto', 2],
    ]);
    const canary = plan.groups[0]?.hosts[0];
    expect(canary?.forward).toEqual({
      version: 'v1.4',
      steps: [
        { name: 'install', command: '/opt/parser/bin/install v1.4', timeoutMs: 120_000 },
        { name: 'restart', command: 'sudo systemctl restart parser', timeoutMs: 30_000 },
      ],
      probe: {
        kind: 'http',
        url: 'http://parser-01.prod.internal:8080/health',
        status: 200,
        bodyContains: 'v1.4',
        requestTimeoutMs: 2000,
      },
      verify: {
        name: 'verify',
        command: '/opt/parser/bin/check-integrity v1.4',
        timeoutMs: 300_000,
      },
    });
    expect(canary?.rollback).toEqual({
      version: 'v1.3',
      steps: [
        { name: 'install', command: '/opt/parser/bin/install v1.3', timeoutMs: 120_000 },
        { name: 'restart', command: 'sudo systemctl restart parser', timeoutMs: 30_000 },
      ],
      probe: {
        kind: 'http',
        url: 'http://parser-01.prod.internal:8080/health',
        status: 200,
        bodyContains: 'v1.3',
        requestTimeoutMs: 2000,
      },
    });
    expect(plan.groups[2]?.hosts[0]).toMatchObject({
      name: 'parser-04.prod.internal:2200',
      address: 'parser-04.prod.internal',
      port: 2200,
    });
    expect(PlanSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('goes to the named environment, or says which exist', () => {
    const staging = planRollout(parser(), { ...request, environment: 'staging' }, 0);
    expect(staging.ok && staging.plan.groups.map((group) => group.name)).toEqual(['all']);
    expect(planRollout(parser(), { ...request, environment: 'prod' }, 0)).toEqual({
      ok: false,
      error: {
        code: 'unknown_environment',
        message:
          "parser has no environment 'prod'; it has production, staging. Did you mean 'production'?",
      },
    });
  });

  it.each(['v1.4; rm -rf /', 'v1.4 && reboot', '1.4', 'v1.4\n', '$(id)', 'v1.4.5.6'])(
    'refuses the version %j before any step exists',
    (version) => {
      const result = planRollout(parser(), { ...request, version }, 0);
      expect(result).toEqual({
        ok: false,
        error: {
          code: 'version_mismatch',
          message: `The version '${version}' does not match parser's version_pattern ^v\\d+\\.\\d+(\\.\\d+)?$.`,
        },
      });
    },
  );

  it('refuses a previous version that does not match the pattern either', () => {
    expect(planRollout(parser(), { ...request, previousVersion: '`reboot`' }, 0)).toMatchObject({
      ok: false,
      error: { code: 'version_mismatch' },
    });
  });

  it.each([
    `v1'; rm -rf / #$(id)"\``,
    'v1.2$(touch pwned)',
    'v1 2',
    '-rf',
    '..',
    'v1.2;id',
    "it's",
    'v1<@U123>',
    'v1|x',
  ])('refuses the version %j whatever version_pattern allows', (version) => {
    const playbook = playbookFrom({
      service: 'web',
      version_pattern: '^.+$',
      steps: [{ name: 'install', run: 'install {{version}}' }],
      health: { tcp: { port: 80 } },
      environments: { production: { groups: [{ name: 'all', hosts: ['web-01'] }] } },
    });
    const result = planRollout(playbook, { ...request, service: 'web', version }, 0);
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'version_mismatch',
        message: `The version ${JSON.stringify(version)} is refused whatever version_pattern allows: a version is made of letters, digits and . _ + : ~ @ -, starting with a letter or digit.`,
      },
    });
    const previous = planRollout(
      playbook,
      { ...request, service: 'web', version: 'v2', previousVersion: version },
      0,
    );
    expect(previous).toMatchObject({ ok: false, error: { code: 'version_mismatch' } });
  });

  it('applies version_pattern to the whole version, even an alternation anchored only at its ends', () => {
    const playbook = playbookFrom({
      service: 'web',
      version_pattern: '^v1\\.\\d+|v2\\.\\d+$',
      steps: [{ name: 'install', run: 'install {{version}}' }],
      health: { tcp: { port: 80 } },
      environments: { production: { groups: [{ name: 'all', hosts: ['web-01'] }] } },
    });
    for (const version of ['v1.2x', 'xv2.3', 'v1.2@evil'])
      expect(planRollout(playbook, { ...request, service: 'web', version }, 0)).toMatchObject({
        ok: false,
        error: { code: 'version_mismatch' },
      });
    expect(
      planFor(playbook, { service: 'web', version: 'v2.3', previousVersion: null }).version,
    ).toBe('v2.3');
  });

  it('passes every substituted value to the commands shell-quoted', () => {
    const playbook = playbookFrom({
      service: 'web',
      version_pattern: '^.+$',
      steps: [
        {
          name: 'install',
          run: 'install {{version}} --from {{previous_version}} --on {{host}} {{service}} {{environment}}',
        },
      ],
      health: { command: { run: 'check {{version}}' } },
      environments: { production: { groups: [{ name: 'all', hosts: ['[::1]:2222'] }] } },
    });
    const plan = planFor(playbook, { service: 'web', version: 'v1~rc1', previousVersion: null });
    const host = plan.groups[0]?.hosts[0];
    expect(host?.forward.steps[0]?.command).toBe(
      `install ${shellQuote('v1~rc1')} --from '' --on ::1 web production`,
    );
    expect(shellQuote('v1~rc1')).toBe(`'v1~rc1'`);
    expect(host?.forward.probe).toEqual({
      kind: 'command',
      command: `check 'v1~rc1'`,
      timeoutMs: 300_000,
    });
  });

  it('URL-encodes values in health URLs, and brackets an IPv6 host', () => {
    const playbook = playbookFrom({
      service: 'web',
      version_pattern: '^.+$',
      steps: [{ name: 'restart', run: 'restart' }],
      health: {
        http: {
          url: 'http://{{host}}:8080/health?v={{version}}&h={{host}}',
          body_contains: '{{version}}',
        },
      },
      environments: { production: { groups: [{ name: 'all', hosts: ['web-01', '::1'] }] } },
    });
    const [named, ipv6] =
      planFor(playbook, { service: 'web', version: '1.0+b@x:y' }).groups[0]?.hosts ?? [];
    expect(named?.forward.probe).toMatchObject({
      url: 'http://web-01:8080/health?v=1.0%2Bb%40x%3Ay&h=web-01',
      bodyContains: '1.0+b@x:y',
    });
    expect(ipv6?.forward.probe).toMatchObject({
      url: 'http://[::1]:8080/health?v=1.0%2Bb%40x%3Ay&h=%3A%3A1',
    });
    expect(new URL((ipv6?.forward.probe as { url: string }).url).hostname).toBe('[::1]');
  });

  it('has no rollback when nothing is known to go back to, or it would repeat the same version', () => {
    expect(
      planFor(parser(), { service: 'parser', version: 'v1.4', previousVersion: null }).groups[0]
        ?.hosts[0]?.rollback,
    ).toBeUndefined();
    expect(
      planFor(parser(), {
        service: 'parser',
        kind: 'restart',
        version: 'v1.4',
        previousVersion: 'v1.4',
      }).groups[0]?.hosts[0]?.rollback,
    ).toBeUndefined();
  });

  it('caps parallel at the size of the group', () => {
    const playbook = playbookFrom({
      service: 'web',
      steps: [{ name: 'restart', run: 'restart' }],
      health: { tcp: { port: 80 } },
      environments: { production: { groups: [{ name: 'all', hosts: ['a', 'b'], parallel: 5 }] } },
    });
    expect(planFor(playbook, { service: 'web' }).groups[0]?.parallel).toBe(2);
  });

  it('refuses a request for another service', () => {
    expect(planRollout(parser(), { ...request, service: 'web' }, 0)).toMatchObject({
      ok: false,
      error: { code: 'wrong_service' },
    });
  });
});

describe('describePlan', () => {
  it('reads as a plan a person can approve', () => {
    const text = describePlan(
      planFor(parser(), { service: 'parser', version: 'v1.4', previousVersion: 'v1.3' }),
    );
    expect(text.split('\n').slice(0, 4)).toEqual([
      'deploy parser to production: v1.3 → v1.4',
      '3 groups, 5 hosts, one group at a time, as deploy',
      'health: every 500ms at most, 2 passes in a row, within 1m per host',
      'on failure: roll back the group that failed, then stop, going back to v1.3',
    ]);
    expect(text).toContain('1. canary: 1 host, 1 at a time, then verify, then wait for Continue');
    expect(text).toContain('2. a: 2 hosts, 2 at a time');
    expect(text).toContain('     install  /opt/parser/bin/install v1.4  [timeout 2m]');
    expect(text).toContain(
      'GET http://parser-01.prod.internal:8080/health expects 200 and a body containing "v1.4"',
    );
  });

  it('says when a failure cannot be rolled back', () => {
    const text = describePlan(
      planFor(parser(), { service: 'parser', version: 'v1.4', previousVersion: null }),
    );
    expect(text).toContain('v1.4 (running version unknown)');
    expect(text).toContain('but nothing to roll back to: it will stop instead');
  });
});
