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
import { FakeSlack, sendSigned, slackSettings, slashCommand } from '../support/fake-slack.js';
import { freePort } from '../support/ports.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

const SECRET = 'verification-signing-secret';
const prefix = testPrefix('slack-verify');
/** The instant the app's request clock shows, whatever the time: requests are dated from it. */
const NOW_S = 1_800_000_000;
let dir: string;
let slack: FakeSlack;
let backend: Backend;
let app: RunningSlackApp;
let url: string;
const warnings: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-verify-'));
  // Anyone may ask; every deploy needs an approval, so a request that is acted on posts one.
  await writeFile(
    join(dir, 'web.yml'),
    [
      'service: web',
      "steps: [{ name: restart, run: 'restart {{version}}' }]",
      'health: { tcp: { port: 8080 } }',
      'environments:',
      '  production:',
      '    approval: { required: true }',
      '    groups: [{ name: all, hosts: [web-01.internal] }]',
    ].join('\n'),
  );
  slack = await FakeSlack.start();
  const port = await freePort();
  url = `http://127.0.0.1:${port}/slack/events`;
  const loaded = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-verify-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
    BATON_PLAYBOOKS: dir,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const warn = (message: string) => void warnings.push(message);
  backend = openRedisBackend({ url: REDIS_URL, prefix, trouble: warn });
  app = await startSlackApp(
    backend,
    slackSettings(loaded.config),
    loaded.config,
    'verify-1',
    warn,
    {
      requestClock: { now: () => NOW_S * 1000 + 400 },
    },
  );
});

afterAll(async () => {
  await app?.stop();
  await backend?.close();
  await slack?.stop();
  await dropPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

describe('requests over HTTP', () => {
  it('are refused, logged with why and never acted on, when dated more than 5 minutes from now either way or wrongly signed', async () => {
    const refused: [string, number, string, RegExp][] = [
      ['10 minutes old', NOW_S - 600, SECRET, /request is stale: its timestamp is 600 s behind/],
      ['5 minutes and 1 s old', NOW_S - 301, SECRET, /request is stale: .* 301 s behind/],
      ['10 minutes ahead', NOW_S + 600, SECRET, /request is from the future: .* 600 s ahead/],
      ['5 minutes and 1 s ahead', NOW_S + 301, SECRET, /from the future: .* 301 s ahead/],
      ['a year ahead', NOW_S + 365 * 86_400, SECRET, /from the future: .* 31536000 s ahead/],
      ['signed with another secret', NOW_S, 'not-the-secret', /signature mismatch/],
    ];
    const accepted: [string, number][] = [
      ['299 s old', NOW_S - 299],
      ['299 s ahead', NOW_S + 299],
      ['5 minutes old', NOW_S - 300],
      ['5 minutes ahead', NOW_S + 300],
    ];
    const refusedTriggers: string[] = [];
    for (const [, timestamp, secret, why] of refused) {
      const form = slashCommand(slack, 'web v1', 'UALICE');
      refusedTriggers.push(form.trigger_id ?? '');
      const sent = await sendSigned(url, form, { secret, timestamp });
      expect(sent.status).toBe(401);
      expect(warnings.at(-1)).toMatch(/^slack: refused a request from 127\.0\.0\.1: /);
      expect(warnings.at(-1)).toMatch(why);
    }
    expect(warnings).toHaveLength(refused.length);
    for (const [, timestamp] of accepted) {
      const form = slashCommand(slack, 'web v1', 'UALICE');
      expect((await sendSigned(url, form, { secret: SECRET, timestamp })).status).toBe(200);
      await until(() => slack.responses.find((response) => response.id === form.trigger_id));
    }
    // Each accepted request was acted on: an approval request each, and nothing more.
    await until(() => (slack.inChannel('C1').length >= accepted.length ? true : undefined));
    expect(slack.inChannel('C1')).toHaveLength(accepted.length);
    expect(slack.responses.filter((response) => refusedTriggers.includes(response.id))).toEqual([]);
    expect(warnings).toHaveLength(refused.length);
  });

  it('answer Slack’s certificate check, which is not signed', async () => {
    const logged = warnings.length;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ssl_check: '1', command: '/deploy', text: 'web v1' }).toString(),
    });
    expect(response.status).toBe(200);
    expect(warnings).toHaveLength(logged);
  });
});
