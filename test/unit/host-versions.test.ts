import { describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/core/playbook/index.js';
import {
  describeHostVersions,
  hostVersionsAfter,
  readVersion,
  withinBudget,
  withHostVersions,
  type HostObservation,
  type Plan,
} from '../../src/core/rollout/index.js';
import { planFor, playbookFrom } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

const document = (extra: Record<string, unknown> = {}) => ({
  service: 'parser',
  version_pattern: '^v\\d+(\\.\\d+)*$',
  steps: [{ name: 'restart', run: 'restart {{version}}' }],
  health: { http: { url: 'http://{{host}}:8080/health', body_contains: 'ok {{version}}' } },
  version: { command: 'cat /opt/parser/VERSION' },
  environments: {
    test: {
      groups: [
        { name: 'a', hosts: ['h1', 'h2'], parallel: 2 },
        { name: 'b', hosts: ['h3'] },
      ],
    },
  },
  ...extra,
});

const problemsOf = (doc: Record<string, unknown>): string[] => {
  const result = validatePlaybook(doc);
  return result.ok ? [] : result.problems.map((problem) => `${problem.path}: ${problem.message}`);
};

describe('version and skip_current in the playbook', () => {
  it('accept a command or a pattern over the health response', () => {
    expect(problemsOf(document())).toEqual([]);
    expect(problemsOf(document({ version: { from_health: 'ok (v[0-9.]+)' } }))).toEqual([]);
    expect(problemsOf(document({ skip_current: false }))).toEqual([]);
  });

  it('refuse both or neither, a pattern without exactly one group, and from_health without http', () => {
    expect(problemsOf(document({ version: {} }))).toEqual([
      expect.stringMatching(/^version: give exactly one of command .* or from_health/),
    ]);
    expect(problemsOf(document({ version: { command: 'x', from_health: '(x)' } }))).toHaveLength(1);
    expect(problemsOf(document({ version: { from_health: 'ok v\\d+' } }))).toEqual([
      expect.stringMatching(
        /^version\.from_health: the pattern has 0 capturing groups; give it exactly one/,
      ),
    ]);
    expect(problemsOf(document({ version: { from_health: '(a)(b)' } }))).toEqual([
      expect.stringMatching(/has 2 capturing groups/),
    ]);
    expect(problemsOf(document({ version: { from_health: '(' } }))).toEqual([
      expect.stringMatching(/^version\.from_health: not a valid regular expression/),
    ]);
    expect(
      problemsOf(
        document({ version: { from_health: 'ok (\\S+)' }, health: { tcp: { port: 8080 } } }),
      ),
    ).toEqual([
      'version.from_health: from_health reads the body of the http health check, and this playbook has none',
    ]);
    const typo = validatePlaybook(document({ skip_curent: false }));
    expect(typo.ok ? [] : typo.problems.map((problem) => problem.hint)).toEqual([
      expect.stringContaining('skip_current'),
    ]);
  });
});

describe('planning with versions', () => {
  it('gives every host its version command, and skips hosts on the version for deploys only', () => {
    const playbook = playbookFrom(document());
    const deploy = planFor(playbook);
    expect(deploy.skipCurrent).toBe(true);
    expect(deploy.groups[0]?.hosts[0]?.readVersion).toEqual({
      kind: 'command',
      command: 'cat /opt/parser/VERSION',
      timeoutMs: 30_000,
    });
    expect(planFor(playbook, { kind: 'restart', version: 'v1' }).skipCurrent).toBe(false);
    expect(planFor(playbookFrom(document({ skip_current: false }))).skipCurrent).toBe(false);
  });
});

const observed = (entries: [string, string, boolean][]): Map<string, HostObservation> =>
  new Map(entries.map(([host, output, healthy]) => [host, { output, healthy }]));

describe('versions read from hosts', () => {
  const plan = planFor(playbookFrom(document()));
  const h1 = plan.groups[0]?.hosts[0] as Plan['groups'][number]['hosts'][number];

  it('must pass the same check as a typed version before they are used anywhere', () => {
    expect(readVersion(plan, h1, 'v1.2\n')).toEqual({ ok: true, version: 'v1.2' });
    for (const hostile of ['v1; rm -rf /', '$(reboot)', 'v1`id`', "v1'", '-v1', 'v1 v2']) {
      const read = readVersion(plan, h1, `${hostile}\n`);
      expect(read.ok, hostile).toBe(false);
    }
    // A pattern that allows anything still cannot let a shell metacharacter through.
    const loose = planFor(playbookFrom(document({ version_pattern: '^.+$' })), { version: 'v2' });
    const read = readVersion(loose, loose.groups[0]?.hosts[0] as typeof h1, 'v2;reboot');
    expect(read).toEqual({
      ok: false,
      problem: expect.stringMatching(/is refused whatever version_pattern allows/),
    });
    expect(readVersion(plan, h1, '\n\n')).toEqual({
      ok: false,
      problem: 'h1: the version command printed nothing',
    });
  });

  it('reads the one group of from_health out of the health response', () => {
    const fromHealth = planFor(playbookFrom(document({ version: { from_health: 'ok (\\S+)' } })));
    const host = fromHealth.groups[0]?.hosts[0] as typeof h1;
    expect(readVersion(fromHealth, host, 'ok v1.4\n')).toEqual({ ok: true, version: 'v1.4' });
    expect(readVersion(fromHealth, host, 'starting')).toEqual({
      ok: false,
      problem: 'h1: the health response "starting" does not match from_health ok (\\S+)',
    });
  });

  it('marks hosts healthy on the version to deploy as left out, and keeps what each runs', () => {
    const seen = withHostVersions(
      plan,
      observed([
        ['h1', 'v2', true],
        ['h2', 'v2', false],
        ['h3', 'v0.9', true],
      ]),
    );
    expect(seen.skipped).toEqual(['h1']);
    expect(seen.unread).toEqual([]);
    const hosts = seen.plan.groups.flatMap((group) => group.hosts);
    expect(hosts.map((host) => [host.name, host.running, host.skip])).toEqual([
      ['h1', 'v2', true],
      // On the version but not healthy: deployed again.
      ['h2', 'v2', undefined],
      ['h3', 'v0.9', undefined],
    ]);
  });

  it('never leaves a host out of a restart, or when skip_current is false', () => {
    const all = observed([
      ['h1', 'v1', true],
      ['h2', 'v1', true],
      ['h3', 'v1', true],
    ]);
    const restart = planFor(playbookFrom(document()), { kind: 'restart', version: 'v1' });
    expect(withHostVersions(restart, all).skipped).toEqual([]);
    const noSkip = planFor(playbookFrom(document({ skip_current: false })), { version: 'v1' });
    expect(withHostVersions(noSkip, all).skipped).toEqual([]);
  });

  it('never leaves a host out when after_host hooks exist: a healthy host may never have run them', () => {
    const all = observed([
      ['h1', 'v1', true],
      ['h2', 'v1', true],
      ['h3', 'v1', true],
    ]);
    const hooked = playbookFrom(
      document({
        after_host: [{ name: 'enable', on: 'controller', run: 'lbctl enable {{host}}' }],
      }),
    );
    const deploy = planFor(hooked, { version: 'v1' });
    expect(deploy.skipCurrent).toBe(false);
    expect(withHostVersions(deploy, all).skipped).toEqual([]);
  });

  it('a version that fails the check is unknown: the host is deployed, and why is said', () => {
    const seen = withHostVersions(plan, observed([['h1', 'v2 && reboot', true]]));
    expect(seen.skipped).toEqual([]);
    expect(seen.plan.groups[0]?.hosts[0]?.running).toBeUndefined();
    expect(seen.unread).toEqual([
      expect.stringMatching(/^The version read from h1 "v2 && reboot" does not match/),
    ]);
  });
});

describe('a rollout with hosts left out', () => {
  const plan = planFor(playbookFrom(document()));

  it('starts the others only, and a group whose hosts are all left out is done at once', () => {
    const { plan: marked } = withHostVersions(
      plan,
      observed([
        ['h1', 'v2', true],
        ['h3', 'v2', true],
      ]),
    );
    const driver = new RolloutDriver(marked);
    expect(driver.stepEffects()).toEqual(['forward a/h2 #0']);
    driver.hostSucceeds('a', 'h2', 'forward', 1);
    expect(driver.phases()).toEqual({ a: 'healthy', b: 'healthy' });
    expect(driver.state.status).toBe('succeeded');
    expect(driver.stepEffects()).toEqual(['forward a/h2 #0']);
  });

  it('a failure rolls back only the hosts it touched, never one left out', () => {
    const { plan: marked } = withHostVersions(plan, observed([['h1', 'v2', true]]));
    const driver = new RolloutDriver(marked);
    driver.stepFails('a', 'h2', 0);
    expect(driver.state.groups[0]?.order).toEqual(['h2']);
    expect(driver.stepEffects()).toEqual(['forward a/h2 #0', 'rollback a/h2 #0']);
  });

  it('every host left out: the rollout succeeds without a step', () => {
    const everyone = observed([
      ['h1', 'v2', true],
      ['h2', 'v2', true],
      ['h3', 'v2', true],
    ]);
    const driver = new RolloutDriver(withHostVersions(plan, everyone).plan);
    expect(driver.state.status).toBe('succeeded');
    expect(driver.stepEffects()).toEqual([]);
  });
});

describe('the rollback target of a host is what it really ran', () => {
  const withHooks = document({
    before_host: [{ name: 'drain', on: 'controller', run: 'lb drain {{host}} {{version}}' }],
    after_host: [{ name: 'enable', on: 'lb-01', run: 'lb enable {{host}} {{previous_version}}' }],
  });

  it('a host read on another version goes back to that one, exactly as a plan for it would', () => {
    const plan = planFor(playbookFrom(withHooks), { previousVersion: 'v1' });
    const seen = withHostVersions(plan, observed([['h3', 'v0.9', true]]));
    const h3 = seen.plan.groups[1]?.hosts[0];
    const planned = planFor(playbookFrom(withHooks), { previousVersion: 'v0.9' }).groups[1]
      ?.hosts[0];
    expect(h3?.rollback?.version).toBe('v0.9');
    expect(h3?.rollback).toEqual(planned?.rollback);
    // The others were not read: they go back to the version history says was running.
    expect(seen.plan.groups[0]?.hosts[0]?.rollback?.version).toBe('v1');
  });

  it('with no version in the history, hosts whose version was read can still be rolled back', () => {
    const plan = planFor(playbookFrom(document()), { previousVersion: null });
    expect(plan.groups[0]?.hosts[0]?.rollback).toBeUndefined();
    const seen = withHostVersions(
      plan,
      observed([
        ['h1', 'v1', true],
        ['h2', 'v1', true],
        ['h3', 'v1.1', true],
      ]),
    );
    const driver = new RolloutDriver(seen.plan);
    driver.stepFails('a', 'h1', 0);
    driver.send({ type: 'step.succeeded', group: 'a', host: 'h2', pass: 'forward', step: 0 });
    expect(driver.state.status).toBe('rolling_back');
    expect(driver.effects).toContainEqual(
      expect.objectContaining({
        type: 'run_step',
        pass: 'rollback',
        host: 'h1',
        command: 'restart v1',
      }),
    );
  });
});

describe('per-host versions in status', () => {
  it('lists each host, flags mixed versions and the hosts that drifted from the history', () => {
    const hosts = [
      { host: 'h1', version: 'v2' },
      { host: 'h2', version: 'v1' },
      { host: 'h3', version: undefined },
    ];
    expect(describeHostVersions(hosts, 'v2')).toBe(
      'hosts: h1 v2, h2 v1, h3 ?; MIXED versions (v2, v1); drift from v2: h2 on v1',
    );
    expect(describeHostVersions(hosts.slice(0, 1), 'v2')).toBe('hosts: h1 v2');
    expect(describeHostVersions(hosts.slice(0, 2), null)).toBe(
      'hosts: h1 v2, h2 v1; MIXED versions (v2, v1)',
    );
  });
});

describe('a first deploy that leaves a host out', () => {
  it('still rolls back the hosts it touched to the versions read from them', () => {
    // No version in the history: only what was read says where each host goes back to.
    const plan = planFor(playbookFrom(document()), { previousVersion: null });
    const seen = withHostVersions(
      plan,
      observed([
        ['h1', 'v2', true],
        ['h2', 'v1', true],
        ['h3', 'v1', true],
      ]),
    );
    expect(seen.skipped).toEqual(['h1']);
    const driver = new RolloutDriver(seen.plan);
    driver.stepFails('a', 'h2', 0);
    expect(driver.state.status).toBe('rolling_back');
    expect(driver.effects).toContainEqual(
      expect.objectContaining({
        type: 'run_step',
        pass: 'rollback',
        host: 'h2',
        command: 'restart v1',
      }),
    );
  });
});

describe('per-host versions after a rollout that left a host out as unreachable', () => {
  it('name that host as unknown rather than leave it out of status', () => {
    const budgeted = planFor(
      playbookFrom(
        document({
          environments: {
            test: {
              max_unreachable: 1,
              groups: [
                { name: 'a', hosts: ['h1', 'h2'], parallel: 2 },
                { name: 'b', hosts: ['h3'] },
              ],
            },
          },
        }),
      ),
    );
    const decision = withinBudget(budgeted, [{ host: 'h3', detail: 'h3: connection refused' }]);
    if (!decision.ok) throw new Error('within budget');
    const seen = withHostVersions(
      decision.plan,
      observed([
        ['h1', 'v1', true],
        ['h2', 'v1', true],
      ]),
    );
    const driver = new RolloutDriver(seen.plan);
    driver.hostSucceeds('a', 'h1', 'forward', 1);
    driver.hostSucceeds('a', 'h2', 'forward', 1);
    expect(driver.state.status).toBe('succeeded');
    // h3 was never deployed to: whatever it runs, nobody can say it is on v2.
    expect(hostVersionsAfter(driver.state)).toEqual([
      { host: 'h1', version: 'v2' },
      { host: 'h2', version: 'v2' },
      { host: 'h3', version: undefined },
    ]);
  });
});

describe('from_health over a huge health response', () => {
  it('matches only the start of it, so a host with a 10 MB body cannot stall the worker', () => {
    // `.*` before the group backtracks over the whole body from every position: quadratic.
    const plan = planFor(playbookFrom(document({ version: { from_health: '.*version=(\\S+)' } })));
    const host = plan.groups[0]?.hosts[0] as Plan['groups'][number]['hosts'][number];
    const huge = 'a'.repeat(10 * 1024 * 1024);
    expect(readVersion(plan, host, huge)).toEqual({
      ok: false,
      problem: expect.stringMatching(/does not match from_health .* in its first 8192 characters$/),
    });
    expect(readVersion(plan, host, `version=v1.4\n${huge}`)).toEqual({ ok: true, version: 'v1.4' });
  });
});

describe('the end of a rollback to the versions hosts really ran', () => {
  it("says every version the hosts went back to, not only the first host's", () => {
    const plan = planFor(playbookFrom(document()), { previousVersion: 'v1' });
    const seen = withHostVersions(plan, observed([['h1', 'v0.9', false]]));
    const driver = new RolloutDriver(seen.plan);
    driver.stepFails('a', 'h2', 0);
    driver.send({ type: 'step.succeeded', group: 'a', host: 'h1', pass: 'forward', step: 0 });
    driver.hostSucceeds('a', 'h2', 'rollback', 1);
    driver.send({ type: 'step.started', group: 'a', host: 'h1', pass: 'rollback', step: 0 });
    driver.send({ type: 'step.succeeded', group: 'a', host: 'h1', pass: 'rollback', step: 0 });
    const end = driver.send({ type: 'health.passed', group: 'a', host: 'h1', pass: 'rollback' });
    expect(driver.state.status).toBe('rolled_back');
    expect(end.announcements.find((a) => a.type === 'rollout.halted')).toMatchObject({
      detail: expect.stringMatching(/rolled back to v1 \(h1 to v0\.9\)\.$/),
    });
  });
});
