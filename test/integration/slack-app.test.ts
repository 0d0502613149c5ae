import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import type { Clock } from '../../src/app/ports.js';
import { loadConfig, type Config } from '../../src/config/env.js';
import {
  openRedisBackend,
  startSlackApp,
  startWorker,
  type Backend,
  type RunningSlackApp,
  type RunningWorker,
} from '../../src/main.js';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import {
  buttonClick,
  buttonsOf,
  FakeSlack,
  sendSigned,
  slackSettings,
  slashCommand,
  textOf,
  type PostedMessage,
} from '../support/fake-slack.js';
import { baton } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { BatonProcess } from '../support/processes.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

const SECRET = 'test-signing-secret';
const prefix = testPrefix('slack');
let fleet: Fleet;
let slack: FakeSlack;
let backend: Backend;
let app: RunningSlackApp;
/** A second `serve` on the same Redis, as in a highly available install. */
let secondApp: RunningSlackApp;
let secondBackend: Backend;
let secondUrl: string;
let worker: RunningWorker;
let url: string;
const warnings: string[] = [];
/** Moved forward by tests that need time to pass (approval expiry). */
let offsetMs = 0;
const clock: Clock = { now: () => Date.now() + offsetMs, sleep: systemClock.sleep };

/** Types `/deploy <text>` as `user`; resolves once Slack's request was acknowledged. */
async function command(text: string, user: string, retryNum?: number, channel = 'C1') {
  const form = slashCommand(slack, text, user, channel);
  const sent = await sendSigned(url, form, {
    secret: SECRET,
    ...(retryNum === undefined ? {} : { retryNum }),
  });
  expect(sent.status).toBe(200);
  return { ...sent, trigger: form.trigger_id ?? '' };
}

/** What the person who typed the command (or clicked) was told, privately or in the channel. */
async function reply(trigger: string) {
  const found = await until(() => slack.responses.find((response) => response.id === trigger));
  return {
    visibility: found.body.response_type,
    text: textOf(found.body as { text: string; blocks: Record<string, unknown>[] }),
  };
}

async function click(message: PostedMessage, action: string, user: string) {
  const form = buttonClick(slack, message, action, user);
  const sent = await sendSigned(url, form, { secret: SECRET });
  expect(sent.status).toBe(200);
  return JSON.parse(form.payload ?? '{}').trigger_id as string;
}

const messagesSoFar = () => slack.inChannel('C1').length;
async function nextMessage(after: number, ms?: number): Promise<PostedMessage> {
  return until(() => slack.inChannel('C1')[after], ms);
}
const SERVICES = ['fleet', 'quick', 'gated'];

/**
 * Waits for a rollout's message to show its end, then for its worker to finish the bookkeeping
 * (the message shows the end as soon as it is checkpointed; the lock goes a moment later).
 */
async function finalText(message: PostedMessage, pattern: RegExp): Promise<string> {
  const text = await until(
    () => (pattern.test(textOf(message)) ? textOf(message) : undefined),
    30_000,
  );
  await until(async () => {
    const holders = await Promise.all(
      SERVICES.map((service) => backend.locks.get({ service, environment: 'test' })),
    );
    return holders.every((holder) => holder?.rollout === undefined);
  });
  return text;
}
const versions = () => Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 2, subnet: 108, spinupMs: 100 });
  // 'fleet' needs approval by UBOB or @sre; 'quick' needs none, and waits at a gate after g1.
  await fleet.writePlaybook({
    groups: [{ hosts: [0] }, { hosts: [1] }],
    access: [
      "deployers: [UALICE, UBOB, UCAROL, '@deploy']",
      "approval: { required: true, approvers: [UBOB, '@sre'], expires: 30m }",
    ],
  });
  await fleet.writePlaybook({
    service: 'quick',
    groups: [{ hosts: [0] }, { hosts: [1] }],
    access: ["deployers: [UALICE, UBOB, '@deploy']"],
  });
  await fleet.writePlaybook({
    service: 'gated',
    groups: [{ hosts: [0], gate: 'manual' }, { hosts: [1] }],
  });
  slack = await FakeSlack.start();
  slack.groups = { sre: ['UDAVE'], deploy: ['UDAVE'] };
  const port = await freePort();
  url = `http://127.0.0.1:${port}/slack/events`;
  const loaded = loadConfig({
    ...fleet.env(),
    REDIS_URL,
    BATON_REDIS_PREFIX: prefix,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const config: Config = loaded.config;
  const warn = (message: string) => void warnings.push(message);
  backend = openRedisBackend({ url: REDIS_URL, prefix, trouble: warn });
  app = await startSlackApp(backend, slackSettings(config), config, 'serve-1', warn, {
    clock,
    leaseMs: 1500,
  });
  const secondPort = await freePort();
  secondUrl = `http://127.0.0.1:${secondPort}/slack/events`;
  secondBackend = openRedisBackend({ url: REDIS_URL, prefix, trouble: warn });
  secondApp = await startSlackApp(
    secondBackend,
    slackSettings({ ...config, PORT: secondPort }),
    config,
    'serve-2',
    warn,
    { clock, leaseMs: 1500 },
  );
  worker = startWorker(backend, config, { ...fleet.env() }, 'worker-1', warn);
  await worker.consumer.waitUntilReady();
}, 60_000);

afterAll(async () => {
  if (process.env.DEBUG_SLACK)
    console.log(warnings, JSON.stringify(slack.calls.slice(-6), null, 1));
  await BatonProcess.killAll();
  await app?.stop();
  await secondApp?.stop();
  await secondBackend?.close();
  await worker?.stop(1000);
  await backend?.close();
  await slack?.stop();
  await fleet?.stop();
  await dropPrefix(prefix);
});

describe('the Slack app', () => {
  it('answers /deploy help privately, and a typo with what was wrong and the usage', async () => {
    const help = await command('help', 'UALICE');
    expect(help.ms).toBeLessThan(3000);
    expect(await reply(help.trigger)).toMatchObject({
      visibility: 'ephemeral',
      text: expect.stringContaining('/deploy rollback &lt;service&gt;'),
    });
    const typo = await command('rollbak fleet', 'UALICE');
    const answer = await reply(typo.trigger);
    expect(answer.visibility).toBe('ephemeral');
    expect(answer.text).toMatch(/rollbak/);
    expect(answer.text).toMatch(/did you mean .*rollback/i);
    const bad = await reply((await command('rollback fleet in soon', 'UALICE')).trigger);
    expect(bad.visibility).toBe('ephemeral');
    expect(bad.text).toContain("'soon'");
    expect(bad.text).toContain('Usage: /deploy rollback &lt;service&gt;');
  });

  it('refuses requests that are not signed by Slack, or are too old', async () => {
    const form = slashCommand(slack, 'fleet v9', 'UALICE');
    const forged = await sendSigned(url, form, { secret: 'not-the-secret' });
    const stale = await sendSigned(url, form, {
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect([forged.status, stale.status]).toEqual([401, 401]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(slack.responses.find((response) => response.id === form.trigger_id)).toBeUndefined();
    // Each refusal is logged, saying why.
    expect(warnings.splice(0)).toEqual([
      expect.stringMatching(/^slack: .*signature mismatch/),
      expect.stringMatching(/^slack: .*request is stale/),
    ]);
  });

  it('tells someone who may not deploy so, and audits the attempt', async () => {
    const sent = await command('fleet v9', 'UMALLORY');
    expect((await reply(sent.trigger)).text).toMatch(
      /<@UMALLORY> may not deploy fleet to test: only <@UALICE>, <@UBOB>, <@UCAROL>, @deploy may/,
    );
    const audit = await backend.audit.recent(5);
    expect(audit.find((entry) => entry.actor === 'UMALLORY')).toMatchObject({
      action: 'deploy.refused',
      target: { service: 'fleet', environment: 'test' },
    });
  });

  it('deploys after another person approves, with one live message, and records who asked', async () => {
    const before = messagesSoFar();
    const asked = await command('fleet v2', 'UALICE');
    const approval = await nextMessage(before);
    expect(textOf(approval)).toMatch(/deploy fleet\* `v2` to \*test\*/);
    expect(textOf(approval)).toContain('2 groups, 2 hosts: g1 (1) → g2 (1)');
    expect(buttonsOf(approval)).toEqual([
      'approval.approve',
      'approval.reject',
      'approval.withdraw',
    ]);
    const approve = approval.blocks
      .flatMap((block) => (block.elements as { confirm?: unknown }[] | undefined) ?? [])
      .find((element) => element.confirm !== undefined);
    expect(approve).toBeDefined();
    expect((await reply(asked.trigger)).text).toContain('Waiting for approval');

    const own = await click(approval, 'approval.approve', 'UALICE');
    expect((await reply(own)).text).toContain('You cannot approve your own request');
    const outsider = await click(approval, 'approval.approve', 'UCAROL');
    expect((await reply(outsider)).text).toContain('<@UCAROL> may not approve deploys to test');
    expect(buttonsOf(approval)).toHaveLength(3);

    await click(approval, 'approval.approve', 'UBOB');
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Approved by <@UBOB>/);
    const progress = await nextMessage(before + 1);
    expect(await finalText(progress, /: done/)).toMatch(/g1.*\n?.*g2/s);
    expect(buttonsOf(progress)).toEqual([]);
    expect(await versions()).toEqual(['200 ok v2', '200 ok v2']);
    const [latest] = await backend.history.list({ service: 'fleet', environment: 'test' }, 1);
    expect(latest).toMatchObject({ version: 'v2', by: 'UALICE', result: 'succeeded' });
    // One post and then updates: at most 2 per group + 5 for the whole rollout.
    expect(progress.versions.length - 1).toBeLessThanOrEqual(2 * 2 + 5);
    const audit = await backend.audit.recent(50);
    expect(audit.find((entry) => entry.action === 'approval.approved')).toMatchObject({
      actor: 'UBOB',
    });
  });

  it('starts an approved rollout when Slack rate-limits the approval message, and both messages end right', async () => {
    slack.rateLimit('chat.update', 1, 1, 'C3');
    await command('fleet v5', 'UALICE', undefined, 'C3');
    const approval = await until(() => slack.inChannel('C3')[0]);
    await click(approval, 'approval.approve', 'UBOB');
    // The decision stands and its rollout runs, whatever became of the first update.
    const progress = await until(() => slack.inChannel('C3')[1], 30_000);
    expect(await finalText(progress, /: done/)).toMatch(/deploy fleet\* `v2` → `v5`/);
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Approved by <@UBOB>/);
    const updates = slack.calls.filter(
      (call) => call.method === 'chat.update' && call.body.channel === 'C3',
    );
    expect(updates[0]?.status).toBe(429);
    expect(await versions()).toEqual(['200 ok v5', '200 ok v5']);
  });

  it('lets a member of an approver group approve', async () => {
    const before = messagesSoFar();
    await command('fleet v3', 'UALICE');
    const approval = await nextMessage(before);
    await click(approval, 'approval.approve', 'UDAVE');
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Approved by <@UDAVE>/);
    await finalText(await nextMessage(before + 1), /: done/);
  });

  it('starts nothing when the request is rejected, and says by whom', async () => {
    const before = messagesSoFar();
    await command('fleet v4', 'UCAROL');
    const approval = await nextMessage(before);
    await click(approval, 'approval.reject', 'UBOB');
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Rejected by <@UBOB>/);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(messagesSoFar()).toBe(before + 1);
    expect(await backend.locks.get({ service: 'fleet', environment: 'test' })).toBeUndefined();
  });

  it('expires a request nobody decided, and refuses a late approval', async () => {
    const before = messagesSoFar();
    await command('fleet v4', 'UCAROL');
    const approval = await nextMessage(before);
    offsetMs += 31 * 60_000;
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Expired: nobody decided within 30m/);
    const asShown = { ...approval, blocks: approval.versions[0]?.blocks ?? [] };
    const late = await click(asShown, 'approval.approve', 'UBOB');
    expect((await reply(late)).text).toContain('This request expired after 30m');
    // Back to the time the worker (on the system clock) keeps.
    offsetMs = 0;
  });

  it('handles a redelivered command once', async () => {
    const before = messagesSoFar();
    const form = slashCommand(slack, 'fleet v5', 'UALICE');
    const first = await sendSigned(url, form, { secret: SECRET });
    const again = await sendSigned(url, form, { secret: SECRET, retryNum: 1 });
    expect([first.status, again.status]).toEqual([200, 200]);
    await nextMessage(before);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(messagesSoFar()).toBe(before + 1);
    const approval = slack.inChannel('C1')[before] as PostedMessage;
    await click(approval, 'approval.withdraw', 'UALICE');
    await until(() => buttonsOf(approval).length === 0);
    expect(textOf(approval)).toMatch(/Withdrawn by <@UALICE>/);
  });

  it('handles a command delivered to two serve processes once', async () => {
    const before = messagesSoFar();
    const form = slashCommand(slack, 'quick v8', 'UALICE');
    const sent = await Promise.all([
      sendSigned(url, form, { secret: SECRET }),
      sendSigned(secondUrl, form, { secret: SECRET, retryNum: 1 }),
    ]);
    expect(sent.map((response) => response.status)).toEqual([200, 200]);
    await finalText(await nextMessage(before), /: done/);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(messagesSoFar()).toBe(before + 1);
    const entries = await backend.history.list({ service: 'quick', environment: 'test' }, 10);
    expect(entries.filter((entry) => entry.version === 'v8')).toHaveLength(1);
  });

  it('restarts the running version, group by group', async () => {
    const before = messagesSoFar();
    await command('restart quick', 'UBOB');
    const progress = await nextMessage(before);
    expect(await finalText(progress, /: done/)).toMatch(/restart quick\* `v8` → `v8`/);
    const [latest] = await backend.history.list({ service: 'quick', environment: 'test' }, 1);
    expect(latest).toMatchObject({ kind: 'restart', version: 'v8', by: 'UBOB' });
  });

  it('keeps the final state when Slack rate-limits the updates, waiting as long as it says', async () => {
    slack.rateLimit('chat.update', 2, 1, 'C2');
    await command('gated v9', 'UALICE', undefined, 'C2');
    const progress = await until(() => slack.inChannel('C2')[0]);
    await until(() => buttonsOf(progress).includes('rollout.continue'), 30_000);
    await click(progress, 'rollout.continue', 'UBOB');
    expect(await finalText(progress, /: done/)).toContain('g2');
    const updates = slack.calls.filter(
      (call) => call.method === 'chat.update' && call.body.channel === 'C2',
    );
    expect(updates.map((call) => call.status).slice(0, 2)).toEqual([429, 429]);
    // Nothing is sent before Retry-After (1 s) has passed since the last 429.
    for (const [index, call] of updates.entries()) {
      const previous = updates[index - 1];
      if (previous?.status === 429) expect(call.at - previous.at).toBeGreaterThanOrEqual(1000);
    }
    expect(updates.at(-1)?.status).toBe(200);
  });

  it('stops at a manual gate with Continue and Abort; Abort rolls the group back', async () => {
    const before = messagesSoFar();
    await command('gated v2', 'UALICE');
    const progress = await nextMessage(before);
    await until(() => buttonsOf(progress).includes('rollout.continue'));
    expect(buttonsOf(progress)).toEqual(['rollout.continue', 'rollout.abort']);
    await click(progress, 'rollout.continue', 'UBOB');
    expect(await finalText(progress, /: done/)).toBeTruthy();

    const second = messagesSoFar();
    await command('gated v3', 'UALICE');
    const aborted = await nextMessage(second);
    await until(() => buttonsOf(aborted).includes('rollout.abort'));
    await click(aborted, 'rollout.abort', 'UALICE');
    expect(await finalText(aborted, /failed and rolled back|halted/)).toBeTruthy();
    expect(await versions()).toEqual(['200 ok v2', '200 ok v2']);
  });

  it('cancels a running rollout from /deploy cancel', async () => {
    const before = messagesSoFar();
    await command('gated v4', 'UALICE');
    const progress = await nextMessage(before);
    await until(() => buttonsOf(progress).includes('rollout.continue'));
    const cancel = await command('cancel gated', 'UBOB');
    expect((await reply(cancel.trigger)).visibility).toBe('in_channel');
    expect(await finalText(progress, /failed and rolled back/)).toMatch(
      /cancel requested by <@UBOB>/,
    );
  });

  it('schedules a rollback that fires in the channel, and one that is cancelled with its button', async () => {
    const before = messagesSoFar();
    await command('rollback quick v1 in 30m', 'UALICE');
    const kept = await nextMessage(before);
    expect(buttonsOf(kept)).toEqual(['schedule.cancel']);
    // Carol may not deploy quick: she sees the schedule, without its button, and cannot cancel it.
    const list = await command('schedules', 'UCAROL');
    const listed = await reply(list.trigger);
    expect(listed.text).toContain('Roll back *quick* in *test*');
    expect(listed.text).toContain('Only its requester or a deployer of the service may stop it');
    const refused = await click(kept, 'schedule.cancel', 'UCAROL');
    expect((await reply(refused)).text).toContain('<@UCAROL> may not stop this rollback of quick');
    expect(buttonsOf(kept)).toEqual(['schedule.cancel']);
    await click(kept, 'schedule.cancel', 'UBOB');
    await until(() => buttonsOf(kept).length === 0);
    expect(textOf(kept)).toMatch(/Cancelled by <@UBOB>/);
    expect(await backend.schedules.open()).toEqual([]);
    const audit = await backend.audit.recent(10);
    expect(audit.find((entry) => entry.action === 'schedule.cancel_refused')).toMatchObject({
      actor: 'UCAROL',
      target: { service: 'quick', environment: 'test' },
    });

    await command('rollback quick v1 in 1s', 'UALICE');
    const scheduled = await nextMessage(before + 1);
    const fired = await nextMessage(before + 2, 30_000);
    expect(await finalText(fired, /: done/)).toMatch(/rollback quick\* `v8` → `v1`/);
    await until(() => /It has fired/.test(textOf(scheduled)));
  });

  it('asks for approval when a scheduled rollback fires where approval is required', async () => {
    const before = messagesSoFar();
    await command('rollback fleet v2 in 1s', 'UALICE');
    const scheduled = await nextMessage(before);
    const approval = await nextMessage(before + 1, 30_000);
    expect(buttonsOf(approval)).toContain('approval.approve');
    expect(textOf(approval)).toMatch(/rollback fleet\* `v3` → `v2`/);
    await until(() => /It has fired/.test(textOf(scheduled)));
    await click(approval, 'approval.approve', 'UBOB');
    expect(await finalText(await nextMessage(before + 2), /: done/)).toContain('g2');
    expect(await versions()).toEqual(['200 ok v2', '200 ok v2']);
  });

  it('puts a failed group, with its step output, in the thread of the rollout message', async () => {
    await fleet.behave('v13', 'install-fails');
    const before = messagesSoFar();
    await command('quick v13', 'UALICE');
    const progress = await nextMessage(before);
    expect(await finalText(progress, /failed and rolled back/)).toContain('Failed:');
    // The thread reply may come just after the message shows the end.
    const failure = await until(() => slack.threadOf(progress)[0]);
    expect(textOf(failure)).toMatch(/Group g1 failed:[\s\S]*step 1 failed/);
  });

  it('answers status and history with what the terminal shows', async () => {
    const status = await command('status quick', 'UCAROL');
    expect((await reply(status.trigger)).text).toContain('quick test: v1');
    const history = await command('history quick', 'UCAROL');
    expect((await reply(history.trigger)).text).toMatch(
      /rollback v1 \(from v8\) by UALICE \(scheduled\): succeeded/,
    );
  });

  it('offers a Keep button after a --rollback-after deploy, and keeping cancels the rollback', async () => {
    const before = messagesSoFar();
    await command('quick v6 --rollback-after 10m', 'UALICE');
    const progress = await nextMessage(before);
    await finalText(progress, /: done/);
    const keep = await until(() =>
      slack.threadOf(progress).find((reply) => buttonsOf(reply).includes('schedule.keep')),
    );
    expect(textOf(keep)).toMatch(/to `v1`.*unless kept/s);
    await click(keep, 'schedule.keep', 'UBOB');
    await until(() => /Kept by <@UBOB>/.test(textOf(keep)));
    expect(await backend.schedules.open()).toEqual([]);
  });

  it('says on its message when a scheduled rollback could not run (the service was locked)', async () => {
    const locked = await command('lock quick "hands off"', 'UBOB');
    await reply(locked.trigger);
    const before = messagesSoFar();
    await command('rollback quick v1 in 1s', 'UALICE');
    const scheduled = await nextMessage(before);
    await until(() => /did not run/.test(textOf(scheduled)));
    expect(textOf(scheduled)).toMatch(
      /⚠️ The scheduled rollback of quick in test did not run: locked by UBOB: hands off\. Roll back by hand/,
    );
    expect(buttonsOf(scheduled)).toEqual([]);
    // Wait for the unlock to be done, so the next test starts from an unlocked service.
    const unlocked = await command('unlock quick', 'UBOB');
    await reply(unlocked.trigger);
  });

  it('locks and unlocks from Slack, and a lock stops deploys', async () => {
    const locked = await command('lock quick "db migration"', 'UBOB');
    expect((await reply(locked.trigger)).text).toContain(
      'locked quick in test for 4h: db migration',
    );
    const refused = await command('quick v7', 'UALICE');
    expect((await reply(refused.trigger)).text).toMatch(
      /quick in test is locked by <@UBOB> since .*: db migration/,
    );
    const unlocked = await command('unlock quick', 'UALICE');
    expect((await reply(unlocked.trigger)).text).toMatch(
      /unlocked quick in test \(the lock was <@UBOB>'s/,
    );
  });

  it('rolls a finished deploy back with its Roll back button', async () => {
    const before = messagesSoFar();
    await command('quick v12', 'UALICE');
    const deployed = await nextMessage(before);
    await finalText(deployed, /: done/);
    expect(buttonsOf(deployed)).toEqual(['rollout.rollback']);
    const refused = await click(deployed, 'rollout.rollback', 'UCAROL');
    expect((await reply(refused)).text).toContain('<@UCAROL> may not deploy quick');
    await click(deployed, 'rollout.rollback', 'UBOB');
    const rolledBack = await nextMessage(before + 1);
    expect(await finalText(rolledBack, /: done/)).toMatch(/rollback quick\* `v12` → `v6`/);
    const [latest] = await backend.history.list({ service: 'quick', environment: 'test' }, 1);
    expect(latest).toMatchObject({ kind: 'rollback', version: 'v6', by: 'UBOB' });
  });

  it('tells the requester privately when it cannot post in their channel, and goes on', async () => {
    const sent = await command('quick v6', 'UALICE', undefined, 'CNOTIN1');
    const note = await until(() =>
      slack.responses.find(
        (response) =>
          response.id === sent.trigger &&
          textOf(response.body as { text: string; blocks: Record<string, unknown>[] }).includes(
            'not in channel',
          ),
      ),
    );
    expect(note.body.response_type).toBe('ephemeral');
    expect(textOf(note.body as { text: string; blocks: Record<string, unknown>[] })).toContain(
      'baton is not in channel CNOTIN1: invite it with /invite @baton. What you asked for is under way',
    );
    // What was asked for does not depend on chat: the rollout runs, and ends.
    await until(async () => {
      const [latest] = await backend.history.list({ service: 'quick', environment: 'test' }, 1);
      return latest?.by === 'UALICE' && latest.kind === 'deploy' && latest.version === 'v6'
        ? latest
        : undefined;
    }, 30_000);
  });

  it('goes on keeping a rollout’s message up to date from the other serve process when one stops', async () => {
    const before = messagesSoFar();
    await command('gated v11', 'UALICE');
    const progress = await nextMessage(before);
    await until(() => buttonsOf(progress).includes('rollout.continue'));
    // Whichever of the two was delivering its message, only the second is left to do it now.
    await app.stop();
    url = secondUrl;
    await click(progress, 'rollout.continue', 'UBOB');
    expect(await finalText(progress, /: done/)).toContain('g2');
  });

  it('runs as `baton start`: answers commands, and stops cleanly on SIGTERM', async () => {
    const missing = await baton(['serve'], { REDIS_URL });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
    const port = await freePort();
    const start = new BatonProcess(['start'], {
      ...fleet.env(),
      REDIS_URL,
      BATON_REDIS_PREFIX: prefix,
      SLACK_BOT_TOKEN: 'xoxb-process',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
    });
    await start.waitFor('running rollouts');
    url = `http://127.0.0.1:${port}/slack/events`;
    const status = await command('status quick', 'UCAROL');
    expect((await reply(status.trigger)).text).toContain('quick test: v6');
    expect(start.output).not.toContain('xoxb-process');
    start.kill('SIGTERM');
    expect(await start.exited()).toBe(0);
  });

  it('runs as `baton start` without Redis: one process, its state in the embedded database', async () => {
    const slackEnv = { SLACK_BOT_TOKEN: 'xoxb-process', SLACK_SIGNING_SECRET: SECRET };
    const serveAlone = await baton(['serve'], slackEnv);
    expect(serveAlone.status).toBe(2);
    expect(serveAlone.stderr).toContain('set REDIS_URL, or run `baton start`');
    const port = await freePort();
    const start = new BatonProcess(['start'], {
      ...fleet.env(),
      ...slackEnv,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
    });
    await start.waitFor('running rollouts on the embedded database in');
    url = `http://127.0.0.1:${port}/slack/events`;
    const before = messagesSoFar();
    await command('quick v40', 'UALICE');
    const progress = await nextMessage(before);
    await until(() => (/: done/.test(textOf(progress)) ? true : undefined), 30_000);
    expect(await versions()).toEqual(['200 ok v40', '200 ok v40']);
    const history = await command('history quick', 'UCAROL');
    expect((await reply(history.trigger)).text).toContain('v40');
    start.kill('SIGTERM');
    expect(await start.exited()).toBe(0);
    // Redis, where the other tests keep their state, never heard of it.
    const onRedis = await backend.history.list({ service: 'quick', environment: 'test' }, 10);
    expect(onRedis.map((entry) => entry.version)).not.toContain('v40');
  });

  it('called only Web API methods that the manifest grants, and the manifest asks for no more', async () => {
    const manifest = parse(await readFile('manifest.yml', 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
    };
    // The scope each method baton calls needs (auth.test needs none).
    const SCOPE: Record<string, string | undefined> = {
      'auth.test': undefined,
      'chat.postMessage': 'chat:write',
      'chat.update': 'chat:write',
      'usergroups.list': 'usergroups:read',
    };
    const methods = new Set(
      slack.calls.map((call) => call.method).filter((method) => method !== 'response_url'),
    );
    for (const method of methods) expect(Object.keys(SCOPE)).toContain(method);
    const needed = new Set(['commands', ...[...methods].flatMap((method) => SCOPE[method] ?? [])]);
    expect(new Set(manifest.oauth_config.scopes.bot)).toEqual(needed);
  });

  it('never warned about anything it did not expect', () => {
    expect(warnings).toEqual([]);
  });
});
