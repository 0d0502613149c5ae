import { describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/core/playbook/index.js';
import { describePlan, type Effect } from '../../src/core/rollout/index.js';
import { planFor, playbookFrom } from '../support/playbooks.js';
import { RolloutDriver } from '../support/rollout-driver.js';

const document = (extra: Record<string, unknown> = {}) => ({
  service: 'svc',
  ssh: { user: 'deploy' },
  steps: [
    { name: 'install', run: 'install {{version}}' },
    { name: 'restart', run: 'restart {{version}}' },
  ],
  before_host: [
    { name: 'drain', on: 'controller', run: 'lbctl drain {{host}}' },
    { name: 'mark', on: 'lb-01.internal:2200', run: 'lb mark {{host}} {{version}}' },
  ],
  after_host: [{ name: 'enable', on: 'controller', run: 'lbctl enable {{host}}' }],
  health: { http: { url: 'http://{{host}}:8080/health' } },
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

const steps = (effects: Effect[]): string[] =>
  effects.flatMap((effect) =>
    effect.type === 'run_step'
      ? [
          `${effect.pass} ${effect.host} ${effect.name}${effect.on === undefined ? '' : ` on ${effect.on === 'controller' ? 'controller' : effect.on.name}`}`,
        ]
      : effect.type === 'probe_health'
        ? [`${effect.pass} ${effect.host} health`]
        : [],
  );

describe('before_host / after_host in the playbook', () => {
  it('are accepted with on: controller or on: a host', () => {
    expect(problemsOf(document())).toEqual([]);
  });

  it('refuse a step without on, an on that is no host, and a quoted placeholder', () => {
    expect(
      problemsOf(
        document({
          before_host: [
            { name: 'a', run: 'x {{host}}' },
            { name: 'b', on: 'not a host!', run: 'x' },
            { name: 'c', on: 'controller', run: "curl -d '{{host}}' lb" },
            { name: 'd', on: 'controller', run: 'x {{hots}}' },
          ],
        }),
      ),
    ).toEqual([
      "before_host[0].on: 'on' is required (string)",
      expect.stringMatching(
        /^before_host\[1\]\.on: on is 'controller' \(the worker's machine\) or a host/,
      ),
      expect.stringMatching(/^before_host\[2\]\.run: \{\{host\}\} is inside single quotes/),
      expect.stringMatching(
        /^before_host\[3\]\.run: unknown placeholder \{\{hots\}\}; did you mean \{\{host\}\}\?/,
      ),
    ]);
  });

  it('name a misspelt key with the one meant', () => {
    expect(problemsOf(document({ after_hosts: [] }))).toEqual([
      expect.stringMatching(/after_hosts.*after_host/),
    ]);
  });
});

describe('planning hooks', () => {
  const plan = planFor(playbookFrom(document()));
  const h1 = plan.groups[0]?.hosts[0];

  it('puts before_host ahead of the steps and after_host after, with the values of the host as shell words', () => {
    expect(h1?.forward.steps).toEqual([
      { name: 'drain', command: 'lbctl drain h1', timeoutMs: 300_000, on: 'controller' },
      {
        name: 'mark',
        command: 'lb mark h1 v2',
        timeoutMs: 300_000,
        on: { name: 'lb-01.internal:2200', address: 'lb-01.internal', port: 2200 },
      },
      { name: 'install', command: 'install v2', timeoutMs: 300_000 },
      { name: 'restart', command: 'restart v2', timeoutMs: 300_000 },
    ]);
    expect(h1?.forward.after).toEqual([
      { name: 'enable', command: 'lbctl enable h1', timeoutMs: 300_000, on: 'controller' },
    ]);
  });

  it('runs them in rollbacks too, with the version gone back to', () => {
    expect(h1?.rollback?.steps.map((step) => step.command)).toEqual([
      'lbctl drain h1',
      'lb mark h1 v1',
      'install v1',
      'restart v1',
    ]);
    expect(h1?.rollback?.after?.map((step) => step.command)).toEqual(['lbctl enable h1']);
  });

  it('shows where each hook runs in the plan', () => {
    const text = describePlan(plan);
    expect(text).toMatch(/drain\s+lbctl drain h1.*\(on the controller\)/);
    expect(text).toMatch(/mark\s+lb mark h1 v2.*\(on lb-01\.internal:2200\)/);
    expect(text.indexOf('enable')).toBeGreaterThan(text.indexOf('health'));
  });

  it('reach the hook host through the playbook jump host unless it says otherwise', () => {
    const jumped = planFor(
      playbookFrom(document({ ssh: { user: 'deploy', jump: 'ops@bastion:22' } })),
    );
    expect(jumped.groups[0]?.hosts[0]?.forward.steps[1]?.on).toMatchObject({
      name: 'lb-01.internal:2200',
      jump: [{ name: 'bastion', address: 'bastion', port: 22, user: 'ops' }],
    });
  });
});

/** Runs the host's current step to success, whatever it is. */
function succeedStep(driver: RolloutDriver, group: string, host: string, pass = 'forward') {
  const state = driver.state.groups.find((candidate) => candidate.name === group);
  const step = state?.hosts.find((candidate) => candidate.name === host)?.step ?? 0;
  driver.send({ type: 'step.started', group, host, pass: pass as 'forward', step });
  return driver.send({ type: 'step.succeeded', group, host, pass: pass as 'forward', step });
}

describe('hooks in the rollout machine', () => {
  it('run around each host: before hooks, steps, health, then after hooks, then the next host', () => {
    const driver = new RolloutDriver(planFor(playbookFrom(document())));
    for (let step = 0; step < 4; step++) succeedStep(driver, 'a', 'h1');
    driver.send({ type: 'health.passed', group: 'a', host: 'h1', pass: 'forward' });
    // Still busy with its after hook: counted as in flight, the group is not healthy yet.
    expect(driver.hostPhases('a')[0]).toBe('h1:forward:running');
    succeedStep(driver, 'a', 'h1');
    expect(driver.hostPhases('a')[0]).toBe('h1:forward:healthy');
    expect(steps(driver.effects).filter((line) => line.includes('h1'))).toEqual([
      'forward h1 drain on controller',
      'forward h1 mark on lb-01.internal:2200',
      'forward h1 install',
      'forward h1 restart',
      'forward h1 health',
      'forward h1 enable on controller',
    ]);
    for (let step = 0; step < 4; step++) succeedStep(driver, 'a', 'h2');
    expect(driver.phases().b).toBe('pending');
    driver.send({ type: 'health.passed', group: 'a', host: 'h2', pass: 'forward' });
    expect(driver.phases().b).toBe('pending');
    succeedStep(driver, 'a', 'h2');
    expect(driver.phases()).toEqual({ a: 'healthy', b: 'deploying' });
  });

  it('a failing after hook fails the host and the policy rolls the group back, hooks and all', () => {
    const driver = new RolloutDriver(
      planFor(
        playbookFrom(
          document({
            environments: { test: { groups: [{ name: 'a', hosts: ['h1'] }] } },
          }),
        ),
      ),
    );
    for (let step = 0; step < 4; step++) succeedStep(driver, 'a', 'h1');
    driver.send({ type: 'health.passed', group: 'a', host: 'h1', pass: 'forward' });
    const failed = driver.stepFails('a', 'h1', 4);
    expect(failed.announcements).toContainEqual({
      type: 'group.failed',
      group: 'a',
      detail: 'enable failed on h1 (exit 1): boom',
    });
    expect(driver.state.status).toBe('rolling_back');
    for (let step = 0; step < 4; step++) succeedStep(driver, 'a', 'h1', 'rollback');
    driver.send({ type: 'health.passed', group: 'a', host: 'h1', pass: 'rollback' });
    succeedStep(driver, 'a', 'h1', 'rollback');
    expect(driver.state.status).toBe('rolled_back');
    expect(steps(driver.effects).filter((line) => line.startsWith('rollback'))).toEqual([
      'rollback h1 drain on controller',
      'rollback h1 mark on lb-01.internal:2200',
      'rollback h1 install',
      'rollback h1 restart',
      'rollback h1 health',
      'rollback h1 enable on controller',
    ]);
  });

  it('a failing before hook on the first host stops before any step of the host ran', () => {
    const driver = new RolloutDriver(planFor(playbookFrom(document({ on_failure: 'halt' }))));
    driver.send({ type: 'step.started', group: 'a', host: 'h1', pass: 'forward', step: 0 });
    driver.send({ type: 'step.started', group: 'a', host: 'h2', pass: 'forward', step: 0 });
    driver.stepFails('a', 'h1', 0);
    driver.send({ type: 'step.succeeded', group: 'a', host: 'h2', pass: 'forward', step: 0 });
    expect(driver.state.status).toBe('halted');
    expect(driver.state.failure?.detail).toBe('drain failed on h1 (exit 1): boom');
    expect(steps(driver.effects).some((line) => line.includes('install'))).toBe(false);
  });

  it('a resumed host in its after hook redoes that hook, not its steps', async () => {
    const { resumeEffects } = await import('../../src/core/rollout/index.js');
    const driver = new RolloutDriver(planFor(playbookFrom(document())));
    for (let step = 0; step < 4; step++) succeedStep(driver, 'a', 'h1');
    driver.send({ type: 'health.passed', group: 'a', host: 'h1', pass: 'forward' });
    expect(steps(resumeEffects(driver.state)).filter((line) => line.includes('h1'))).toEqual([
      'forward h1 enable on controller',
    ]);
  });
});
