import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeSlack, sendSigned, slashCommand } from '../support/fake-slack.js';
import { freePort } from '../support/ports.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

let child: ChildProcess | undefined;
let output = '';
// Its own data directory, so the run starts from nothing as on a fresh clone, and leaves a
// developer's own `.data/local` (and a local baton they may have running) alone.
const dataDir = mkdtempSync(join(tmpdir(), 'baton-local-e2e-'));

/**
 * Demo host processes of this checkout's local mode still running on this machine: named by
 * this checkout's path, so that another checkout's local mode is neither counted nor stopped.
 */
const DEMO_HOSTS = `${fileURLToPath(new URL('../../demo/host.mjs', import.meta.url))} --address=127.77.`;
function demoHosts(): string[] {
  const found = spawnSync('pgrep', ['-af', 'demo/host.mjs'], { encoding: 'utf8' });
  return found.stdout.split('\n').filter((line) => line.includes(DEMO_HOSTS));
}

/** What a person reads: the output without the terminal's escape sequences. */
const screen = () => output.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');

async function seen(text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!screen().includes(text)) {
    if (Date.now() > deadline)
      throw new Error(`'${text}' not seen within ${ms} ms; output:\n${output}`);
    if (child?.exitCode !== null) throw new Error(`npm start exited early; output:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  for (const line of demoHosts()) {
    try {
      process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start, with no Slack token and no Redis', () => {
  it('runs local mode in a terminal: a deploy typed at the prompt is approved there and finishes, and leaving stops every demo host', async () => {
    const env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([name]) => !name.startsWith('SLACK_') && name !== 'REDIS_URL',
        ),
      ),
      BATON_DATA_DIR: dataDir,
    };
    // `script` gives npm start a pseudo-terminal, as a person at a terminal has.
    child = spawn('script', ['-qfec', 'npm start', '/dev/null'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const type = (line: string) => child?.stdin?.write(`${line}\r`);

    await seen('baton>', 90_000);
    expect(screen()).toContain('six demo hosts run on this machine');
    // npm start's build made the template of a new database: no initdb on the first start.
    expect(screen()).toContain('Opening the embedded database');
    expect(screen()).not.toContain('This first start creates it');
    expect(screen()).toContain('(running v1)');
    expect(demoHosts()).toHaveLength(6);
    type('/deploy demo v2');
    await seen('Approve? Type y or n.', 20_000);
    type('y');
    await seen('deploy demo v2 to production: done', 60_000);
    expect(screen()).toMatch(/canary[^\n]*healthy 1\/1/);
    type('/deploy status');
    await seen('demo production: v2', 10_000);
    type('quit');
    const code = await new Promise<number | null>((resolve) => child?.once('exit', resolve));
    expect(code).toBe(0);
    expect(screen()).toContain('Stopped the demo hosts.');
    expect(demoHosts()).toEqual([]);
  }, 180_000);
});

// After npm start (above, in this file, so never beside it) has built dist/: the bundle runs its
// other front ends too, with the packages bundled into it and those left to node's loading.
describe('the built command (dist/)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const bin = join(root, 'dist/src/bin.js');
  const built: ChildProcess[] = [];
  const prefix = testPrefix('built');
  const plainEnv = () =>
    Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.startsWith('SLACK_') && name !== 'REDIS_URL',
      ),
    );
  const run = (args: string[], env: Record<string, string | undefined>) =>
    spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', cwd: root });

  afterAll(async () => {
    for (const child of built) if (child.exitCode === null) child.kill('SIGKILL');
    await dropPrefix(prefix);
  });

  it('opens a new embedded database from the template the build put beside it', () => {
    const env = {
      ...plainEnv(),
      BATON_DATA_DIR: join(dataDir, 'built'),
      BATON_PLAYBOOKS: 'playbooks',
    };
    const status = run(['status'], env);
    expect(status.stderr).not.toContain('creating the embedded database');
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('parser production: no deploy recorded');
  });

  it('serves Slack over HTTP on Redis: a signed /deploy is acknowledged and answered', async () => {
    const slack = await FakeSlack.start();
    try {
      const port = await freePort();
      const child = spawn(process.execPath, [bin, 'serve'], {
        cwd: root,
        env: {
          ...plainEnv(),
          REDIS_URL,
          BATON_REDIS_PREFIX: prefix,
          BATON_PLAYBOOKS: 'playbooks',
          SLACK_BOT_TOKEN: 'xoxb-test',
          SLACK_SIGNING_SECRET: 'built-secret',
          SLACK_API_URL: `${slack.url}/api/`,
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      built.push(child);
      let log = '';
      child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await until(() => log.includes('Slack app listening') || child.exitCode !== null, {
        ms: 30_000,
        what: 'baton serve to listen',
      });
      expect(log).toContain('Slack app listening');
      const form = slashCommand(slack, 'help', 'U1');
      const sent = await sendSigned(`http://127.0.0.1:${port}/slack/events`, form, {
        secret: 'built-secret',
      });
      expect(sent.status).toBe(200);
      const answer = await until(
        () => slack.responses.find((response) => response.id === form.trigger_id),
        { ms: 10_000, what: 'the answer to /deploy help' },
      );
      expect(JSON.stringify(answer.body)).toContain('/deploy');
      child.kill('SIGTERM');
      await until(() => child.exitCode !== null, { ms: 20_000, what: 'baton serve to stop' });
      expect(child.exitCode).toBe(0);
    } finally {
      await slack.stop();
    }
  }, 60_000);
});
