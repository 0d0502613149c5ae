import { existsSync } from 'node:fs';
import { appendFile, copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshExecutor, type SshExecutorOptions } from '../../src/adapters/ssh/ssh-executor.js';
import { ConnectionError, type HostTarget } from '../../src/app/ports.js';
import { Fleet } from '../fleet/fleet.js';
import { until } from '../support/until.js';

// Logins kept open between commands: reused while known_hosts still trusts them, never after.
let fleet: Fleet;
let executor: SshExecutor;
let knownHosts: string;
const stopped: number[] = [];

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 3, subnet: 107 });
});
afterAll(async () => {
  await fleet?.stop();
});
afterEach(async () => {
  await executor?.close();
  for (const pid of stopped.splice(0)) process.kill(pid, 'SIGKILL');
});

function target(index = 0): HostTarget {
  const host = fleet.hosts[index];
  if (host === undefined) throw new Error('no host');
  return { name: host.name, address: host.address, port: host.sshPort, user: 'root' };
}

/** How known_hosts names a host of the fleet. */
const lookup = (index: number) => `[${target(index).address}]:${target(index).port} `;

/** An executor on a known_hosts file of this test's own, which it may change. */
async function executorWith(limits: Partial<SshExecutorOptions> = {}): Promise<SshExecutor> {
  knownHosts = join(fleet.dir, `known_hosts.${Date.now()}.${Math.random()}`);
  await copyFile(fleet.knownHostsPath, knownHosts);
  executor = new SshExecutor({
    knownHostsPath: knownHosts,
    privateKeyPath: fleet.clientKeyPath,
    connectTimeoutMs: 5000,
    ...limits,
  });
  return executor;
}

/** The client port of the login a command ran on: the same port is the same login. */
async function loginPort(index = 0): Promise<string> {
  const result = await executor.run(target(index), 'echo "$SSH_CONNECTION"', {
    timeoutMs: 5000,
  });
  const port = result.stdoutTail.split(' ')[1];
  if (port === undefined || result.exitCode !== 0) throw new Error(`no SSH_CONNECTION: ${result}`);
  return port;
}

/** The sshd process that serves the login a command runs on. */
async function sessionProcess(index = 0): Promise<number> {
  // The command's parent is the login's shell (`exec timeout`), and its parent is that sshd.
  const result = await executor.run(target(index), 'ps -o ppid= -p "$PPID"', { timeoutMs: 5000 });
  return Number(result.stdoutTail.trim());
}

async function refusal(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConnectionError))
    throw new Error(`expected a ConnectionError, got ${String(error)}`);
  return error;
}

/** Runs a command that leaves a mark, so a test can tell whether it ran at all. */
const marker = () => join(fleet.dir, `ran.${Date.now()}.${Math.random()}`);

describe('warm logins', () => {
  it('runs every command to a host on one login, and pre-flight hands it over', async () => {
    await executorWith();
    await executor.connect(target());
    const first = await loginPort();
    expect(await loginPort()).toBe(first);
    expect(executor.openLogins()).toHaveLength(1);
  });

  it('never reuses a login once known_hosts has another key for the host', async () => {
    await executorWith();
    await loginPort();
    // Host 1's line now carries host 2's key, as if host 1 had been rebuilt since.
    const lines = (await readFile(knownHosts, 'utf8')).split('\n');
    const own = lines.findIndex((line) => line.startsWith(lookup(0)));
    const other = lines.find((line) => line.startsWith(lookup(1)))?.split(' ')[2];
    lines[own] = `${lookup(0)} ssh-ed25519 ${other}`;
    await writeFile(`${knownHosts}.new`, lines.join('\n'));
    await rename(`${knownHosts}.new`, knownHosts);
    const mark = marker();
    const error = await refusal(executor.run(target(), `touch ${mark}`, { timeoutMs: 5000 }));
    expect(error.code).toBe('host_key_mismatch');
    expect(existsSync(mark)).toBe(false);
  });

  it('never reuses a login whose key is marked @revoked since, even in place in the file', async () => {
    await executorWith();
    await loginPort();
    const line = (await readFile(knownHosts, 'utf8'))
      .split('\n')
      .find((entry) => entry.startsWith(lookup(0)));
    const key = (line ?? '').split(' ').slice(1).join(' ');
    await appendFile(knownHosts, `@revoked * ${key}\n`);
    const mark = marker();
    const error = await refusal(executor.run(target(), `touch ${mark}`, { timeoutMs: 5000 }));
    expect(error.code).toBe('host_key_revoked');
    expect(existsSync(mark)).toBe(false);
  });

  it('never reuses a login when known_hosts cannot be read any more', async () => {
    await executorWith();
    await loginPort();
    await rename(knownHosts, `${knownHosts}.gone`);
    const mark = marker();
    const error = await refusal(executor.run(target(), `touch ${mark}`, { timeoutMs: 5000 }));
    expect(error.code).toBe('host_key_unknown');
    expect(error.message).toContain('Cannot read the known hosts file');
    expect(existsSync(mark)).toBe(false);
  });

  it('closes a login left unused for the idle time, and opens a new one when asked', async () => {
    await executorWith({ idleMs: 200 });
    const first = await loginPort();
    await until(() => executor.openLogins().length === 0, { what: 'the idle login closed' });
    expect(await loginPort()).not.toBe(first);
  });

  it('keeps at most maxIdle idle logins, closing the least recently used', async () => {
    await executorWith({ maxIdle: 2 });
    for (const index of [0, 1, 2]) await executor.connect(target(index));
    expect(executor.openLogins().map((key) => key.split('@')[1])).toEqual([
      `${target(1).address}:${target(1).port}`,
      `${target(2).address}:${target(2).port}`,
    ]);
  });

  it('does not close a login while a command runs on it, whatever the bound', async () => {
    await executorWith({ maxIdle: 0 });
    const running = executor.run(target(), 'sleep 0.3; echo done', { timeoutMs: 5000 });
    await until(() => executor.openLogins().length === 1, { what: 'the login open' });
    await executor.connect(target(1));
    expect((await running).stdoutTail).toBe('done\n');
    expect(executor.openLogins()).toEqual([]);
  });

  it('forgets a login the host closed, and runs the next command on a new one', async () => {
    await executorWith();
    const first = await loginPort();
    process.kill(await sessionProcess(), 'SIGKILL');
    await until(() => executor.openLogins().length === 0, { what: 'the closed login forgotten' });
    expect(await loginPort()).not.toBe(first);
  });

  it('asks a rested login whether the host still answers, and runs once on a new one if not', async () => {
    await executorWith({ probeAfterMs: 0, probeTimeoutMs: 1000 });
    const first = await loginPort();
    // The login's sshd stops answering, but its TCP connection stays open: a silent network.
    const session = await sessionProcess();
    process.kill(session, 'SIGSTOP');
    stopped.push(session);
    const mark = marker();
    const result = await executor.run(target(), `echo x >> ${mark}; echo "$SSH_CONNECTION"`, {
      timeoutMs: 5000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutTail.split(' ')[1]).not.toBe(first);
    expect(await readFile(mark, 'utf8')).toBe('x\n');
  });
});
