import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcessShell } from '../../src/adapters/controller/child-process-shell.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-shell-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Gone, or a zombie nobody reaps (PID 1 here does not): either way it no longer runs. */
async function stillRuns(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.startsWith('Z') !== true;
  } catch {
    return false;
  }
}

describe('ChildProcessShell: hooks on the controller', () => {
  const shell = new ChildProcessShell();

  it('runs a command with /bin/sh and reports its exit code and output', async () => {
    const result = await shell.run("echo drained 'web 1'; echo warn >&2; exit 3", {
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({
      exitCode: 3,
      timedOut: false,
      stdoutTail: 'drained web 1\n',
      stderrTail: 'warn\n',
    });
  });

  it('a timeout stops the whole process group, not only the shell', async () => {
    const pidFile = join(dir, 'child.pid');
    const result = await shell.run(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await stillRuns(pid)).toBe(false);
  });

  it('a command that is not there fails like any failing command (127), with the shell saying why', async () => {
    const result = await shell.run('no-such-command-baton-hook', { timeoutMs: 10_000 });
    expect(result.exitCode).toBe(127);
    expect(result.stderrTail).toContain('not found');
  });

  it("never hands a hook baton's own credentials, while the rest of its environment is there", async () => {
    const shell = new ChildProcessShell({
      env: {
        PATH: process.env.PATH,
        SLACK_BOT_TOKEN: 'xoxb-not-for-hooks',
        SLACK_SIGNING_SECRET: 'signing-not-for-hooks',
        SLACK_APP_TOKEN: 'xapp-not-for-hooks',
        REDIS_URL: 'redis://baton:not-for-hooks@127.0.0.1:6379',
        LB_API_TOKEN: 'for-the-load-balancer',
      },
    });
    const result = await shell.run('env', { timeoutMs: 10_000 });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutTail).toContain('LB_API_TOKEN=for-the-load-balancer');
    expect(result.stdoutTail).not.toContain('not-for-hooks');
  });

  it('a timed-out command ends even when something it started left its group and keeps the output open', async () => {
    const pidFile = join(dir, 'escaped.pid');
    // setsid puts sleep in a group of its own, out of reach of the group kill, still holding stdout.
    try {
      const result = await shell.run(`setsid sleep 600 & echo $! > ${pidFile}; wait`, {
        timeoutMs: 300,
      });
      expect(result.timedOut).toBe(true);
    } finally {
      process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');
    }
  }, 30_000);
});
