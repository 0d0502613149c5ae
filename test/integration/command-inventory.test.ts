import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandInventory } from '../../src/adapters/inventory/command-inventory.js';
import { registerSecrets } from '../../src/adapters/log/redact.js';
import { until } from '../support/until.js';

/** The adapter that runs hosts_from commands, with real processes. */
let dir: string;
const inventory = () => new CommandInventory(dir);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-inventory-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('CommandInventory', () => {
  it("runs with baton's environment less baton's own credentials", async () => {
    const saved = { token: process.env.SLACK_BOT_TOKEN, redis: process.env.REDIS_URL };
    process.env.SLACK_BOT_TOKEN = 'xoxb-inventory-test';
    process.env.REDIS_URL = 'redis://:hunter22@127.0.0.1:6379';
    process.env.BATON_INVENTORY_PROBE = 'seen';
    try {
      const run = await inventory().list(
        'printf "%s\\n" "t-${SLACK_BOT_TOKEN:-none}" "r-${REDIS_URL:+set}" "p-$BATON_INVENTORY_PROBE"',
        { timeoutMs: 10_000 },
      );
      expect(run).toMatchObject({ ok: true });
      expect(run.ok ? run.stdout.trim().split('\n') : []).toEqual(['t-none', 'r-', 'p-seen']);
    } finally {
      for (const [name, value] of [
        ['SLACK_BOT_TOKEN', saved.token],
        ['REDIS_URL', saved.redis],
      ] as const)
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
      delete process.env.BATON_INVENTORY_PROBE;
    }
  });

  it('gives what the command printed, run by sh in its directory', async () => {
    expect(
      await inventory().list("printf 'web-01\\nweb-02\\n'; pwd >&2", { timeoutMs: 5000 }),
    ).toEqual({ ok: true, stdout: 'web-01\nweb-02\n' });
    expect(await inventory().list('pwd', { timeoutMs: 5000 })).toEqual({
      ok: true,
      stdout: `${dir}\n`,
    });
  });

  it('a failing command gives its exit status and the end of what it said', async () => {
    expect(
      await inventory().list('echo listing; echo "no credentials for the cloud API" >&2; exit 3', {
        timeoutMs: 5000,
      }),
    ).toEqual({
      ok: false,
      reason: 'failed',
      exitCode: 3,
      output: 'no credentials for the cloud API',
    });
    expect(await inventory().list('./no-such-command', { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      reason: 'failed',
      exitCode: 127,
      output: expect.stringContaining('no-such-command'),
    });
  });

  it('stops a command at its timeout, with everything it started', async () => {
    const pidFile = join(dir, 'child.pid');
    const run = await inventory().list(`sleep 60 & echo $! > ${pidFile}; echo started >&2; wait`, {
      timeoutMs: 300,
    });
    expect(run).toEqual({ ok: false, reason: 'timed_out', exitCode: null, output: 'started' });
    const pid = Number(await readFile(pidFile, 'utf8'));
    await until(() => !alive(pid), { ms: 5000, what: `the inventory's child ${pid} ending` });
  });

  it('gives up at its timeout even when a process that left its group holds the output open', async () => {
    const pidFile = join(dir, 'escaped.pid');
    // The shell is done at once, but a process in a session of its own keeps stdout open.
    const run = await inventory().list(
      `echo web-01; setsid sh -c 'echo $$ > ${pidFile}; exec sleep 120' & wait`,
      { timeoutMs: 500 },
    );
    const pid = Number(await readFile(pidFile, 'utf8'));
    try {
      expect(alive(pid)).toBe(true);
      expect(run).toMatchObject({ ok: false, reason: 'timed_out' });
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  }, 20_000);

  it('refuses output far longer than a list of hosts', async () => {
    expect(
      await inventory().list('yes web-01.example.internal | head -c 3000000', {
        timeoutMs: 10_000,
      }),
    ).toEqual({ ok: false, reason: 'too_much_output', exitCode: null, output: '' });
  });

  it('keeps secrets out of what it shows, and bounds it', async () => {
    registerSecrets(['s3cr3t-token-value']);
    const run = await inventory().list(
      'head -c 5000 /dev/zero | tr "\\0" x >&2; echo "auth failed for s3cr3t-token-value" >&2; exit 1',
      { timeoutMs: 5000 },
    );
    expect(run.ok).toBe(false);
    if (run.ok) return;
    expect(run.output).not.toContain('s3cr3t-token-value');
    expect(run.output).toMatch(/^…x+auth failed for \[redacted\]$/);
    expect(run.output.length).toBeLessThanOrEqual(2001);
  });
});
