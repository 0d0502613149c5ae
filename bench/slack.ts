// `npm run bench` (third part): how fast the Slack app acknowledges commands, and how many Web API
// calls one rollout's live message costs. Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { systemClock } from '../src/adapters/clock/system-clock.js';
import type { Chat, MessageRef } from '../src/app/chat-ports.js';
import { ChatView } from '../src/app/outbox/chat-view.js';
import { processRolloutJob } from '../src/app/worker/process-rollout-job.js';
import { openRedisBackend, playbookSource, useCaseDeps, workerDeps } from '../src/main.js';
import { BatonProcess } from '../test/support/processes.js';
import { FakeSlack, sendSigned, slashCommand } from '../test/support/fake-slack.js';
import { InMemoryHosts } from '../test/support/in-memory-hosts.js';
import { planFor, playbookFrom } from '../test/support/playbooks.js';
import { freePort } from '../test/support/ports.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../test/support/redis.js';

const COMMANDS = 50;
const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ??
  NaN;

const prefix = testPrefix('bench-slack');
const backend = openRedisBackend({ url: REDIS_URL, prefix, trouble: (m) => console.error(m) });
const slack = await FakeSlack.start();
try {
  // --- ack latency: 50 signed /deploy commands at once to `baton serve` in its own process ---
  const port = await freePort();
  const serve = new BatonProcess(['serve'], {
    REDIS_URL,
    BATON_REDIS_PREFIX: prefix,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: 'bench-secret',
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
  });
  await serve.waitFor('listening');
  const url = `http://127.0.0.1:${port}/slack/events`;
  const command = (text: string) =>
    sendSigned(url, slashCommand(slack, text, 'UBENCH'), { secret: 'bench-secret' });
  for (let warm = 0; warm < 10; warm++) await command(warm % 2 === 0 ? 'help' : 'status');
  // The first burst meets code that has not run under load yet; later bursts are the steady state.
  const bursts: number[][] = [];
  let allOk = true;
  for (let round = 0; round < 4; round++) {
    const sent = await Promise.all(
      Array.from({ length: COMMANDS }, (_, n) => command(n % 2 === 0 ? 'help' : 'status')),
    );
    allOk &&= sent.every((response) => response.status === 200);
    bursts.push(sent.map((response) => response.ms));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const first = bursts[0] ?? [];
  const rounds = bursts.slice(1).flat();

  // The same burst against a bare Node HTTP server: what this machine and client cost anyway.
  const barePort = await freePort();
  const bare = spawn(process.execPath, ['bench/bare-http-server.mjs', String(barePort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => bare.stdout.once('data', resolve));
  const bareUrl = `http://127.0.0.1:${barePort}/slack/events`;
  const floor: number[] = [];
  for (let warm = 0; warm < 10; warm++)
    await sendSigned(bareUrl, slashCommand(slack, 'help', 'UBENCH'), { secret: 'x' });
  for (let round = 0; round < 4; round++) {
    const sent = await Promise.all(
      Array.from({ length: COMMANDS }, () =>
        sendSigned(bareUrl, slashCommand(slack, 'help', 'UBENCH'), { secret: 'x' }),
      ),
    );
    if (round > 0) floor.push(...sent.map((response) => response.ms));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  bare.kill();
  const one: number[] = [];
  for (let n = 0; n < 20; n++) one.push((await command('help')).ms);
  console.log(
    `slack ack, ${COMMANDS} concurrent slash commands (serve in its own process): p50 ${percentile(rounds, 0.5).toFixed(1)} ms, p99 ${percentile(rounds, 0.99).toFixed(1)} ms over bursts 2-4 (target p99 < 100 ms); first burst after start: p99 ${percentile(first, 0.99).toFixed(1)} ms; one at a time: p50 ${percentile(one, 0.5).toFixed(1)} ms; all 200: ${allOk}\n` +
      `  floor, the same bursts to a bare Node HTTP server (2-4): p50 ${percentile(floor, 0.5).toFixed(1)} ms, p99 ${percentile(floor, 0.99).toFixed(1)} ms; baton p99 / floor p99 = ${(percentile(rounds, 0.99) / percentile(floor, 0.99)).toFixed(2)}`,
  );
  serve.kill('SIGTERM');
  await serve.exited();

  // --- Web API calls per rollout, on simulated hosts ---
  for (const shape of [
    { groups: 4, perGroup: 5, parallel: 5, spinupMs: 300 },
    { groups: 50, perGroup: 20, parallel: 10, spinupMs: 50 },
  ]) {
    const calls: { at: number; ts: string; kind: 'post' | 'update' | 'thread' }[] = [];
    let next = 0;
    const chat: Chat = {
      async post(channel, _message, threadTs): Promise<MessageRef> {
        const ts = `${++next}`;
        calls.push({
          at: Date.now(),
          ts: threadTs ?? ts,
          kind: threadTs === undefined ? 'post' : 'thread',
        });
        return { channel, ts };
      },
      async update(ref) {
        calls.push({ at: Date.now(), ts: ref.ts, kind: 'update' });
      },
      async respond() {},
    };
    const deps = useCaseDeps(backend, {
      playbooks: playbookSource(async () => ({
        playbooks: new Map(),
        problems: [],
        notes: [],
        warnings: [],
        sshConfigs: [],
        unusable: new Map(),
      })),
      timeZone: 'UTC',
    });
    const hosts = new InMemoryHosts(systemClock);
    hosts.spinupMs = shape.spinupMs;
    let host = 0;
    const playbook = playbookFrom({
      service: 'sim',
      steps: [{ name: 'restart', run: 'restart {{version}}' }],
      health: {
        http: { url: 'http://{{host}}/health', body_contains: '{{version}}' },
        interval: '1s',
      },
      environments: {
        test: {
          groups: Array.from({ length: shape.groups }, (_, index) => ({
            name: `g${index + 1}`,
            hosts: Array.from({ length: shape.perGroup }, () => `h${++host}`),
            parallel: shape.parallel,
          })),
        },
      },
    });
    const rollout = randomUUID();
    const view = new ChatView(deps, chat, { owner: 'bench-view', warn: (m) => console.error(m) });
    const key = `rollout:${rollout}`;
    await backend.outbox.add({
      key,
      to: { kind: 'channel', channel: 'C1' },
      view: { kind: 'rollout', rollout, requestedBy: 'UBENCH' },
      createdAt: Date.now(),
    });
    view.start();
    const started = Date.now();
    await processRolloutJob(
      { rollout, plan: planFor(playbook), requestedBy: 'UBENCH', lockToken: randomUUID() },
      { ...workerDeps(backend, hosts, 'bench', (m) => console.error(m)), health: hosts },
    );
    const took = Date.now() - started;
    while ((await backend.outbox.get(key))?.settled !== true)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await view.stop();
    const updates = calls.filter((call) => call.kind === 'update').map((call) => call.at);
    const fastest = updates
      .slice(1)
      .reduce((min, at, index) => Math.min(min, at - (updates[index] ?? 0)), Infinity);
    const hostsTotal = shape.groups * shape.perGroup;
    console.log(
      `slack calls, ${hostsTotal} simulated hosts (${shape.groups} groups × ${shape.perGroup}, parallel ${shape.parallel}, rollout ${(took / 1000).toFixed(1)} s): ${calls.length} calls (${calls.filter((c) => c.kind === 'post').length} post, ${updates.length} updates, ${calls.filter((c) => c.kind === 'thread').length} thread); budget 2 per group + 5 = ${2 * shape.groups + 5}; closest two updates ${Number.isFinite(fastest) ? `${fastest} ms apart` : 'n/a'} (at most 1/s)`,
    );
  }
} finally {
  await slack.stop();
  await backend.close();
  await dropPrefix(prefix);
}
