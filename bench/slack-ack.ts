// `npm run bench`: how long Slack waits for baton's ack of a slash command, side by side with a
// bare Bolt app whose /deploy handler only acks, both started here on loopback and sent the same
// signed requests. Prints figures; asserts nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendSigned } from '../test/support/fake-slack.js';
import { freePort } from '../test/support/ports.js';
import { BatonProcess } from '../test/support/processes.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../test/support/redis.js';

const CONCURRENT = 50;
const ROUNDS = 10;
const RUNS = 3;
const SECRET = 'bench-signing-secret';
/** What people type, in the proportions the bursts send it. */
const MIX = ['web v2', 'status', 'help', 'api v2', 'status web'];

const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ??
  NaN;
const median = (values: number[]): number => percentile(values, 0.5);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function playbook(service: string): string {
  return [
    `service: ${service}`,
    "version_pattern: '^v\\d+$'",
    'steps:',
    "  - { name: restart, run: 'restart {{version}}' }",
    'health:',
    "  http: { url: 'http://{{host}}:8080/health', body_contains: '{{version}}' }",
    'environments:',
    '  test:',
    '    groups:',
    `      - { name: all, hosts: [${service}-1.internal, ${service}-2.internal] }`,
  ].join('\n');
}

/** Resolves with the first line a child prints, once it prints one. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it started`)));
  });
}

const dir = await mkdtemp(join(tmpdir(), 'baton-bench-ack-'));
const prefix = testPrefix('bench-ack');
const children: ChildProcess[] = [];
let serve: BatonProcess | undefined;
try {
  await writeFile(join(dir, 'web.yml'), `${playbook('web')}\n`);
  await writeFile(join(dir, 'api.yml'), `${playbook('api')}\n`);
  // The Web API baton calls after each ack, in its own process: not on the client's event loop.
  const fakeSlack = spawn(process.execPath, ['--import', 'tsx', 'bench/fake-slack-server.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(fakeSlack);
  const slackUrl = await firstLine(fakeSlack);

  const barePort = await freePort();
  const bare = spawn(
    process.execPath,
    ['bench/bare-bolt-app.mjs', String(barePort), SECRET, `${slackUrl}/api/`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(bare);
  const batonPort = await freePort();
  serve = new BatonProcess(['serve'], {
    REDIS_URL,
    BATON_REDIS_PREFIX: prefix,
    BATON_PLAYBOOKS: dir,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: `${slackUrl}/api/`,
    PORT: String(batonPort),
  });
  await Promise.all([firstLine(bare), serve.waitFor('listening')]);
  const apps = {
    bare: `http://127.0.0.1:${barePort}/slack/events`,
    baton: `http://127.0.0.1:${batonPort}/slack/events`,
  };

  let sent = 0;
  const command = (url: string, text: string) => {
    const trigger = `trigger-ack-${++sent}`;
    return sendSigned(
      url,
      {
        token: 'unused',
        team_id: 'T1',
        channel_id: 'C1',
        channel_name: 'deploys',
        user_id: 'UBENCH',
        user_name: 'ubench',
        command: '/deploy',
        text,
        api_app_id: 'A1',
        response_url: `${slackUrl}/respond/${trigger}`,
        trigger_id: trigger,
      },
      { secret: SECRET },
    );
  };
  let refused = 0;
  const burst = async (url: string): Promise<number[]> => {
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, n) => command(url, MIX[n % MIX.length] ?? 'help')),
    );
    refused += answers.filter((answer) => answer.status !== 200).length;
    return answers.map((answer) => answer.ms);
  };
  type Figures = { p50: number; p99: number };
  const figures = (times: number[]): Figures => ({
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
  });
  /**
   * One run: bursts to each app in turn, so both meet the same machine (it is shared, and what
   * else runs on it changes by the second). The first burst to each meets code that has not run
   * under load yet and is left out: the steady state is after it.
   */
  const measure = async (): Promise<{ bare: Figures; baton: Figures }> => {
    const times: { bare: number[]; baton: number[] } = { bare: [], baton: [] };
    for (let round = 0; round <= ROUNDS; round++) {
      for (const which of round % 2 === 0
        ? (['bare', 'baton'] as const)
        : (['baton', 'bare'] as const)) {
        const burstTimes = await burst(apps[which]);
        if (round > 0) times[which].push(...burstTimes);
        // Slack's bursts come apart: what baton does after one is done before the next.
        await pause(1000);
      }
    }
    return { bare: figures(times.bare), baton: figures(times.baton) };
  };

  for (const url of Object.values(apps))
    for (let warm = 0; warm < 10; warm++) await command(url, MIX[warm % MIX.length] ?? 'help');
  const runs: { bare: Figures; baton: Figures }[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await measure());
  const of = (pick: (run: (typeof runs)[number]) => number) => median(runs.map(pick));
  const ratio = of((run) => run.baton.p99 / run.bare.p99);
  console.log(
    `slack ack vs a bare Bolt app that only acks, ${CONCURRENT} concurrent /deploy (${MIX.join(' | ')}), ${ROUNDS} bursts to each per run (interleaved) after one warm-up burst, median of ${RUNS} runs:\n` +
      `  bare Bolt: p50 ${of((run) => run.bare.p50).toFixed(1)} ms, p99 ${of((run) => run.bare.p99).toFixed(1)} ms\n` +
      `  baton serve (Redis): p50 ${of((run) => run.baton.p50).toFixed(1)} ms, p99 ${of((run) => run.baton.p99).toFixed(1)} ms\n` +
      `  baton p99 / bare p99 = ${ratio.toFixed(2)} (target ≤ 1.2); per run: ${runs.map((run) => (run.baton.p99 / run.bare.p99).toFixed(2)).join(', ')}; requests not answered 200: ${refused}`,
  );
} finally {
  serve?.kill('SIGTERM');
  await serve?.exited();
  for (const child of children) child.kill('SIGTERM');
  await dropPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
}
