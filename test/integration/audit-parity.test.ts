import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleAction } from '../../src/app/chatops/handle-action.js';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import type { AuditEntry } from '../../src/app/audit.js';
import { terminalActor } from '../../src/cli/operator.js';
import { openRedisBackend, playbookSource, useCaseDeps, type Backend } from '../../src/main.js';
import { baton } from '../support/cli.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * The same action, asked for in Slack and at the terminal, is audited the same way: only who did
 * it, when, and the ids baton made up may differ.
 */
let dir: string;
const prefixes: string[] = [];
const backends: Backend[] = [];

const PLAYBOOK = [
  'service: parser',
  "steps: [{ name: restart, run: 'restart {{version}}' }]",
  "health: { http: { url: 'http://{{host}}:8080/health' } }",
  'default_environment: staging',
  'environments:',
  '  staging:',
  '    deployers: [UALICE]',
  '    groups: [{ name: a, hosts: [127.0.0.1] }]',
].join('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-parity-'));
  await writeFile(join(dir, 'parser.yml'), PLAYBOOK);
  await writeFile(join(dir, 'known_hosts'), '');
});

afterAll(async () => {
  for (const backend of backends) await backend.close();
  for (const prefix of prefixes) await dropPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

function side() {
  const prefix = testPrefix('parity');
  prefixes.push(prefix);
  const backend = openRedisBackend({ url: REDIS_URL, prefix, trouble: () => {} });
  backends.push(backend);
  const env = {
    REDIS_URL,
    BATON_REDIS_PREFIX: prefix,
    BATON_PLAYBOOKS: join(dir),
    BATON_KNOWN_HOSTS: join(dir, 'known_hosts'),
  };
  const deps = useCaseDeps(backend, {
    playbooks: playbookSource(join(dir)),
    timeZone: 'UTC',
  });
  let n = 0;
  const front = { ...deps, kick: () => {}, warn: () => {} };
  const from = () => ({
    user: 'UALICE',
    channel: 'C1',
    responseUrl: 'http://127.0.0.1:9/reply',
    deliveryId: `parity-${prefix}-${++n}`,
  });
  return {
    backend,
    env,
    slack: (text: string) => handleCommand(front, text, from()),
    click: (action: 'schedule.cancel', value: string) => handleAction(front, action, value, from()),
    /** What the requester did, oldest first (a worker's own entries are its business). */
    audit: async (actor: string) =>
      (await backend.audit.recent(100)).reverse().filter((entry) => entry.actor === actor),
  };
}

/** An entry as it may be compared: no time, no actor, and the ids baton made up replaced. */
function shape(entry: AuditEntry, actor: string): unknown {
  return JSON.parse(
    JSON.stringify({ action: entry.action, target: entry.target, detail: entry.detail }),
    (key, value: unknown) => {
      if (key === 'runAt') return 'TIME';
      if (typeof value !== 'string') return value;
      if (value === actor) return 'ACTOR';
      if (key === 'rollout' || key === 'schedule') return 'ID';
      return value;
    },
  );
}

const same = async (slack: ReturnType<typeof side>, terminal: ReturnType<typeof side>) => {
  const operator = terminalActor();
  const [inSlack, atTerminal] = [await slack.audit('UALICE'), await terminal.audit(operator)];
  expect(inSlack.length).toBeGreaterThan(0);
  expect(inSlack.map((entry) => shape(entry, 'UALICE'))).toEqual(
    atTerminal.map((entry) => shape(entry, operator)),
  );
};

describe('the audit log, whichever front end', () => {
  it('records a deploy alike', async () => {
    const slack = side();
    const terminal = side();
    await slack.slack('parser v2');
    // The terminal's worker cannot trust the host (an empty known_hosts): the request stands.
    expect((await baton(['deploy', 'parser', 'v2', '--worker'], terminal.env)).status).toBe(4);
    await same(slack, terminal);
  });

  it('records a rollback alike', async () => {
    const slack = side();
    const terminal = side();
    await slack.slack('rollback parser v1');
    expect((await baton(['rollback', 'parser', 'v1', '--worker'], terminal.env)).status).toBe(4);
    await same(slack, terminal);
  });

  it('records locks, unlocks and refusals of a locked target alike', async () => {
    const slack = side();
    const terminal = side();
    await slack.slack('lock parser "db work"');
    await slack.slack('parser v3');
    await slack.slack('unlock parser');
    await baton(['lock', 'parser', 'db', 'work', '--for', '4h'], terminal.env);
    await baton(['deploy', 'parser', 'v3', '--worker'], terminal.env);
    await baton(['unlock', 'parser'], terminal.env);
    await same(slack, terminal);
  });

  it('records a rollback scheduled and then cancelled alike', async () => {
    const slack = side();
    const terminal = side();
    await slack.slack('rollback parser v1 in 30m');
    const [scheduled] = await slack.backend.schedules.open();
    await slack.click('schedule.cancel', scheduled?.id ?? '');
    const made = await baton(['rollback', 'parser', 'v1', '--in', '30m'], terminal.env);
    const id = /--cancel (\S+)/.exec(made.stdout)?.[1] ?? '';
    expect((await baton(['schedules', '--cancel', id], terminal.env)).status).toBe(0);
    await same(slack, terminal);
  });

  it('records a cancel of a running rollout alike', async () => {
    const slack = side();
    const terminal = side();
    for (const { backend } of [slack, terminal])
      await backend.locks.acquire(
        { service: 'parser', environment: 'staging' },
        { token: 't', owner: 'UBOB', reason: 'deploy v9', since: Date.now(), rollout: 'r-running' },
        60_000,
      );
    await slack.slack('cancel parser');
    expect((await baton(['cancel', 'parser'], terminal.env)).status).toBe(0);
    await same(slack, terminal);
  });
});
