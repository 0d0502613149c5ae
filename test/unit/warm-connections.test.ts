import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  type CommandResult,
  type HostTarget,
  type RemoteExecutor,
} from '../../src/app/ports.js';
import type { RolloutAsk } from '../../src/app/use-cases/request-rollout.js';
import { warmConnections } from '../../src/cli/warm-connections.js';
import { playbookSource } from '../../src/main/use-case-deps.js';

const PLAYBOOK = `
service: web
version_pattern: '^v\\d+$'
default_environment: production
ssh: { user: deploy }
before_host:
  - { name: drain, on: 'lb.internal:22', run: 'drain {{host}}' }
steps:
  - { name: restart, run: 'restart {{version}}' }
health:
  http: { url: 'http://{{host}}:8080/health' }
environments:
  production:
    groups:
      - { name: a, hosts: [web-1.internal, web-2.internal] }
      - { name: b, hosts: ['web-3.internal:2200'] }
  listed:
    groups:
      - { name: all, hosts_from: { command: 'echo web-9.internal' } }
  approved:
    approval: { required: true, approvers: ['@sre'] }
    groups:
      - { name: all, hosts: [web-8.internal] }
  wide:
    groups:
      - name: all
        hosts: [w01, w02, w03, w04, w05, w06, w07, w08, w09, w10, w11, w12]
`;

/** Records each connection asked for; those to `failing` fail as a down host does. */
class RecordingExecutor implements RemoteExecutor {
  readonly connected: string[] = [];
  /** Called with each connection asked for, before it is answered. */
  onConnect: () => void = () => undefined;
  constructor(private readonly failing = new Set<string>()) {}

  connect(target: HostTarget): Promise<void> {
    this.connected.push(`${target.user}@${target.address}:${target.port}`);
    this.onConnect();
    if (this.failing.has(target.address))
      return Promise.reject(new ConnectionError('unreachable', target.name, 'no route'));
    return Promise.resolve();
  }

  run(): Promise<CommandResult> {
    throw new Error('warming up runs nothing on a host');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-warm-'));
  writeFileSync(join(dir, 'web.yml'), PLAYBOOK);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const deploy = { kind: 'deploy' as const, service: 'web', version: 'v2' };
/** Warms up for `ask` from the test's playbooks, until `signal` (never, by default) is aborted. */
const warm = (
  executor: RemoteExecutor,
  ask: RolloutAsk,
  signal: AbortSignal = new AbortController().signal,
) => warmConnections(executor, ask, playbookSource(dir), Date.now(), signal);

describe('logins opened ahead of a deploy this process runs', () => {
  it('connects to every host of the plan and every host its hooks run on, running nothing', async () => {
    const executor = new RecordingExecutor();
    await warm(executor, deploy);
    expect(executor.connected.sort()).toEqual([
      'deploy@lb.internal:22',
      'deploy@web-1.internal:22',
      'deploy@web-2.internal:22',
      'deploy@web-3.internal:2200',
    ]);
  });

  it('connects only to the part of the environment asked for', async () => {
    const executor = new RecordingExecutor();
    await warm(executor, { ...deploy, only: { groups: ['b'] } });
    expect(executor.connected.sort()).toEqual([
      'deploy@lb.internal:22',
      'deploy@web-3.internal:2200',
    ]);
  });

  it('goes on past hosts that cannot be reached, saying nothing (the pre-flight reports them)', async () => {
    const executor = new RecordingExecutor(new Set(['web-1.internal']));
    await expect(warm(executor, deploy)).resolves.toBeUndefined();
    expect(executor.connected).toHaveLength(4);
  });

  it.each([
    ['a version the playbook refuses', { ...deploy, version: 'latest' }],
    ['a service with no playbook', { ...deploy, service: 'api' }],
    [
      'an environment listed by a command, which is not run twice',
      { ...deploy, environment: 'listed' },
    ],
    [
      'a rollback, whose version the history decides',
      { kind: 'rollback' as const, service: 'web' },
    ],
    ['a restart', { kind: 'restart' as const, service: 'web' }],
    [
      'an environment whose deploys are approved, before the operator said yes',
      { ...deploy, environment: 'approved' },
    ],
  ])('connects to nothing for %s', async (_, ask) => {
    const executor = new RecordingExecutor();
    await warm(executor, ask);
    expect(executor.connected).toEqual([]);
  });

  it('logs in to an approved environment once the operator has said yes', async () => {
    const executor = new RecordingExecutor();
    await warm(executor, { ...deploy, environment: 'approved', confirmed: true });
    expect(executor.connected.sort()).toEqual([
      'deploy@lb.internal:22',
      'deploy@web-8.internal:22',
    ]);
  });

  it('starts no login once the command is done with the deploy (a refusal, say)', async () => {
    const executor = new RecordingExecutor();
    const done = new AbortController();
    let afterAbort = 0;
    executor.onConnect = () => {
      if (done.signal.aborted) afterAbort += 1;
      done.abort();
    };
    await warm(executor, { ...deploy, environment: 'wide' }, done.signal);
    expect(executor.connected.length).toBeGreaterThan(0);
    expect(executor.connected.length).toBeLessThan(12);
    expect(afterAbort).toBe(0);
  });
});
