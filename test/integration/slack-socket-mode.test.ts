import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import {
  openRedisBackend,
  startSlackApp,
  type Backend,
  type RunningSlackApp,
} from '../../src/main.js';
import {
  buttonClick,
  buttonsOf,
  FakeSlack,
  slackSettings,
  slashCommand,
  textOf,
} from '../support/fake-slack.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

const prefix = testPrefix('socket');
let slack: FakeSlack;
let backend: Backend;
let app: RunningSlackApp;
let playbooks: string;
const warnings: string[] = [];

beforeAll(async () => {
  playbooks = await mkdtemp(join(tmpdir(), 'baton-socket-'));
  await writeFile(
    join(playbooks, 'parser.yml'),
    [
      'service: parser',
      "steps: [{ name: restart, run: 'restart {{version}}' }]",
      "health: { http: { url: 'http://{{host}}:8080/health' } }",
      'environments:',
      '  production:',
      '    approval: { required: true }',
      '    groups: [{ name: a, hosts: [parser-01.internal] }]',
    ].join('\n'),
  );
  slack = await FakeSlack.start();
  const loaded = loadConfig({
    REDIS_URL,
    BATON_REDIS_PREFIX: prefix,
    BATON_PLAYBOOKS: playbooks,
    SLACK_BOT_TOKEN: 'xoxb-socket',
    SLACK_APP_TOKEN: 'xapp-1-socket',
    SLACK_API_URL: slack.apiUrl,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const warn = (message: string) => void warnings.push(message);
  backend = openRedisBackend({ url: REDIS_URL, prefix, trouble: warn });
  app = await startSlackApp(backend, slackSettings(loaded.config), loaded.config, 'socket-1', warn);
});

afterAll(async () => {
  await app?.stop();
  await backend?.close();
  await slack?.stop();
  await dropPrefix(prefix);
  await rm(playbooks, { recursive: true, force: true });
});

describe('the Slack app over Socket Mode', () => {
  it('connects with the app token, needing no public URL or signing secret', async () => {
    await until(() => slack.socketConnected && app.connected());
    expect(slack.calls.find((call) => call.method === 'apps.connections.open')).toBeDefined();
  });

  it('acknowledges a slash command over the socket at once, and answers through its response URL', async () => {
    const form = slashCommand(slack, 'help', 'UALICE');
    const { ack, ms } = await slack.deliver('slash_commands', form);
    expect(ack.envelope_id).toBeDefined();
    expect(ms).toBeLessThan(3000);
    const reply = await until(() => slack.responses.find((item) => item.id === form.trigger_id));
    expect(reply.body.response_type).toBe('ephemeral');
  });

  it('takes button clicks over the socket: a rejected request says who rejected it', async () => {
    await slack.deliver('slash_commands', slashCommand(slack, 'parser v2', 'UALICE'));
    const approval = await until(() => slack.inChannel('C1')[0]);
    expect(buttonsOf(approval)).toContain('approval.reject');
    const click = JSON.parse(
      buttonClick(slack, approval, 'approval.reject', 'UBOB').payload ?? '{}',
    );
    await slack.deliver('interactive', click);
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Rejected by <@UBOB>/);
  });

  it('refuses to schedule a rollback to the previous version when there is none yet', async () => {
    const form = slashCommand(slack, 'rollback parser in 5m', 'UALICE');
    await slack.deliver('slash_commands', form);
    const reply = await until(() => slack.responses.find((item) => item.id === form.trigger_id));
    expect(textOf(reply.body as { text: string; blocks: Record<string, unknown>[] })).toContain(
      'There is no earlier good version of parser in production to roll back to',
    );
    expect(await backend.schedules.open()).toEqual([]);
  });

  it('says it is not connected while the socket is down, and connects again by itself', async () => {
    slack.dropSocket();
    await until(() => !app.connected());
    await until(() => slack.socketConnected && app.connected());
    expect(slack.count('apps.connections.open')).toBeGreaterThanOrEqual(2);
    // The drop is logged (through baton's log), and nothing else went wrong.
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) expect(warning).toMatch(/^slack: .*WebSocket/);
  });
});
