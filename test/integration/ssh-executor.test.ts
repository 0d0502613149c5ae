import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, type HostTarget } from '../../src/app/ports.js';
import { SshExecutor } from '../../src/adapters/ssh/ssh-executor.js';
import { Fleet } from '../fleet/fleet.js';

const run = promisify(execFile);
let fleet: Fleet;
let executor: SshExecutor;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 2, subnet: 102 });
});
afterAll(async () => {
  await fleet?.stop();
});
afterEach(async () => {
  await executor?.close();
});

function target(index = 0, port = 2222): HostTarget {
  const host = fleet.hosts[index];
  if (host === undefined) throw new Error('no host');
  return { name: host.name, address: host.address, port, user: 'root' };
}

function executorWith(knownHostsPath = fleet.knownHostsPath, privateKeyPath = fleet.clientKeyPath) {
  executor = new SshExecutor({ knownHostsPath, privateKeyPath, connectTimeoutMs: 3000 });
  return executor;
}

async function connectionError(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConnectionError))
    throw new Error(`expected a ConnectionError, got ${String(error)}`);
  return error;
}

describe('SshExecutor', () => {
  it('runs a command and reports its exit code and output', async () => {
    const result = await executorWith().run(target(), 'echo out; echo err >&2; exit 7', {
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({
      exitCode: 7,
      timedOut: false,
      stdoutTail: 'out\n',
      stderrTail: 'err\n',
    });
  });

  it('runs the quoted command exactly, as one shell word each value', async () => {
    const result = await executorWith().run(target(), `printf '%s|' 'a b' "it's" '$(id)'`, {
      timeoutMs: 5000,
    });
    expect(result.stdoutTail).toBe("a b|it's|$(id)|");
  });

  it('reuses one connection per host', async () => {
    const ssh = executorWith();
    const first = await ssh.run(target(), 'echo $SSH_CLIENT', { timeoutMs: 5000 });
    const second = await ssh.run(target(), 'echo $SSH_CLIENT', { timeoutMs: 5000 });
    expect(first.stdoutTail).not.toBe('');
    expect(second.stdoutTail).toBe(first.stdoutTail);
  });

  it('opens no login once closed, also for a connection asked for while it closed', async () => {
    const ssh = executorWith();
    const first = connectionError(ssh.connect(target(0)));
    const closing = ssh.close();
    const late = connectionError(ssh.connect(target(1)));
    await closing;
    expect((await first).code).toBe('lost');
    expect((await late).code).toBe('lost');
    expect((await connectionError(ssh.connect(target(0)))).message).toContain('closed');
    expect(ssh.openLogins()).toEqual([]);
  });

  it(
    'gives up a login to a silent host when closed, instead of waiting out its connect timeout',
    {
      timeout: 10_000,
    },
    async () => {
      const silent = createServer();
      const accepted = new Set<Socket>();
      silent.on('connection', (socket: Socket) => accepted.add(socket));
      silent.listen(0, '127.0.0.1');
      await once(silent, 'listening');
      const { port } = silent.address() as AddressInfo;
      try {
        executor = new SshExecutor({
          knownHostsPath: fleet.knownHostsPath,
          privateKeyPath: fleet.clientKeyPath,
          connectTimeoutMs: 60_000,
          handshakes: 1,
        });
        const reached = once(silent, 'connection');
        const waiting = connectionError(
          executor.connect({ name: 'silent', address: '127.0.0.1', port, user: 'root' }),
        );
        // Behind it, waiting its turn for the one handshake allowed.
        const queued = connectionError(
          executor.connect({ name: 'silent-too', address: '127.0.0.1', port, user: 'nobody' }),
        );
        await reached;
        await executor.close();
        expect((await waiting).code).toBe('lost');
        expect((await queued).code).toBe('lost');
        expect(accepted.size).toBe(1);
      } finally {
        for (const socket of accepted) socket.destroy();
        silent.close();
      }
    },
  );

  it('stops a command that runs past its timeout on the host, and says it timed out', async () => {
    const marker = `baton-timeout-${process.pid}-${Date.now()}`;
    const result = await executorWith().run(target(), `sleep 30 # ${marker}`, { timeoutMs: 700 });
    expect(result).toMatchObject({ timedOut: true, exitCode: 124 });
    expect(result.durationMs).toBeLessThan(5000);
    const { stdout } = await run('pgrep', ['-f', marker]).catch(() => ({ stdout: '' }));
    expect(stdout).toBe('');
  });

  it('keeps only the tail of a chatty command', async () => {
    const result = await executorWith().run(target(), 'seq 1 100000', { timeoutMs: 10_000 });
    expect(result.stdoutTail.length).toBeLessThanOrEqual(8193);
    expect(result.stdoutTail.endsWith('99999\n100000\n')).toBe(true);
    expect(result.stdoutTail.startsWith('…')).toBe(true);
  });

  it('accepts hashed known_hosts entries', async () => {
    const hashed = join(fleet.dir, 'known_hosts.hashed');
    await copyFile(fleet.knownHostsPath, hashed);
    await run('ssh-keygen', ['-q', '-H', '-f', hashed]);
    expect(await readFile(hashed, 'utf8')).toMatch(/^\|1\|/);
    const result = await executorWith(hashed).run(target(), 'true', { timeoutMs: 5000 });
    expect(result.exitCode).toBe(0);
  });

  it('never connects to a host whose key does not match, and names what it saw and what to do', async () => {
    // Host 1's line, relabelled as host 0's: the key host 0 presents will not match.
    const wrong = join(fleet.dir, 'known_hosts.wrong');
    const lines = (await readFile(fleet.knownHostsPath, 'utf8')).trim().split('\n');
    const otherKey = lines
      .find((line) => !line.startsWith(`[${target().address}]`))
      ?.split(' ')
      .slice(1)
      .join(' ');
    await writeFile(wrong, `[${target().address}]:2222 ${otherKey}\n`);
    const error = await connectionError(
      executorWith(wrong).run(target(), 'touch /tmp/should-not-run', { timeoutMs: 5000 }),
    );
    expect(error.code).toBe('host_key_mismatch');
    expect(error.message).toContain(
      `The host key of h1 (${target().address}:2222) does not match the BATON_KNOWN_HOSTS file: it presented ssh-ed25519 SHA256:`,
    );
    expect(error.message).toContain(
      `ssh-keygen -R '[${target().address}]:2222' -f "$BATON_KNOWN_HOSTS"`,
    );
    // The variable, not the path: the message is shown in the channel too.
    expect(error.message).not.toContain(wrong);
    const { stdout } = await run('ssh-keygen', [
      '-lf',
      join(fleet.dir, 'hosts', target().address, 'ssh_host_ed25519_key.pub'),
    ]);
    expect(error.message).toContain(stdout.split(' ')[1]);
  });

  it('never connects to a host it does not know', async () => {
    const empty = join(fleet.dir, 'known_hosts.empty');
    await writeFile(empty, '# nothing here\n');
    const error = await connectionError(executorWith(empty).connect(target()));
    expect(error.code).toBe('host_key_unknown');
    expect(error.message).toContain(
      'is not in the BATON_KNOWN_HOSTS file; it presented ssh-ed25519 SHA256:',
    );
    expect(error.message).toContain(
      `ssh-keyscan -p 2222 ${target().address} >> "$BATON_KNOWN_HOSTS"`,
    );
    expect(error.message).not.toContain(empty);
  });

  it('refuses a revoked key', async () => {
    const revoked = join(fleet.dir, 'known_hosts.revoked');
    const key = (
      await readFile(join(fleet.dir, 'hosts', target().address, 'ssh_host_ed25519_key.pub'), 'utf8')
    )
      .split(' ')
      .slice(0, 2)
      .join(' ');
    await writeFile(revoked, `${await readFile(fleet.knownHostsPath, 'utf8')}@revoked * ${key}\n`);
    expect((await connectionError(executorWith(revoked).connect(target()))).code).toBe(
      'host_key_revoked',
    );
  });

  it('says when nothing listens', async () => {
    const error = await connectionError(executorWith().connect(target(0, 2299)));
    expect(error.code).toBe('unreachable');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('says when the key is refused, and how to fix it', async () => {
    const stranger = join(fleet.dir, 'stranger_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const error = await connectionError(
      executorWith(fleet.knownHostsPath, stranger).connect(target()),
    );
    expect(error.code).toBe('auth_failed');
    expect(error.message).toContain("add the public key to that user's authorized_keys");
  });

  it('names the variable, not the path, of a key file it cannot read', async () => {
    const missing = join(fleet.dir, 'no-such-key');
    const error = await connectionError(
      executorWith(fleet.knownHostsPath, missing).connect(target()),
    );
    expect(error.code).toBe('no_credentials');
    expect(error.message).toContain('the SSH private key file that BATON_SSH_KEY names (ENOENT)');
    expect(error.message).not.toContain(missing);
  });

  it('says when there are no credentials at all, without touching the network', async () => {
    executor = new SshExecutor({ knownHostsPath: fleet.knownHostsPath });
    const error = await connectionError(executor.connect(target()));
    expect(error.code).toBe('no_credentials');
    expect(error.message).toContain('set BATON_SSH_KEY');
  });
});
