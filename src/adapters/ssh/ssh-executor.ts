import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import {
  ConnectionError,
  type CommandResult,
  type HostTarget,
  type RemoteExecutor,
} from '../../app/ports.js';
import { shellQuote } from '../../core/shell.js';
import {
  fingerprint,
  keyTypeOf,
  knownKeyTypes,
  lookupName,
  parseKnownHosts,
  verifyHostKey,
  type HostKeyVerdict,
} from './known-hosts.js';
import { OutputTail } from './output-tail.js';

export interface SshExecutorOptions {
  /** OpenSSH known_hosts file; every host key is checked against it, always. */
  knownHostsPath: string;
  /** Private key file; without it the ssh-agent at `agentSocket` is used. */
  privateKeyPath?: string;
  agentSocket?: string;
  connectTimeoutMs?: number;
}

/** Seconds the remote `timeout` waits after TERM before it sends KILL. */
const KILL_GRACE_S = 5;
/** If the host does not answer even after that, stop waiting locally. */
const LOCAL_GRACE_MS = (KILL_GRACE_S + 5) * 1000;

const RSA_ALGORITHMS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function describe(target: HostTarget): string {
  return `${target.name} (${target.address}:${target.port})`;
}

/** Runs commands over SSH, one reused connection per host, with host keys always verified. */
export class SshExecutor implements RemoteExecutor {
  private readonly connections = new Map<string, Promise<NodeSSH>>();

  constructor(private readonly options: SshExecutorOptions) {}

  async connect(target: HostTarget): Promise<void> {
    await this.connection(target);
  }

  async run(
    target: HostTarget,
    command: string,
    options: { timeoutMs: number },
  ): Promise<CommandResult> {
    const ssh = await this.connection(target);
    const client = ssh.connection;
    if (client === null)
      throw new ConnectionError(
        'lost',
        target.name,
        `The connection to ${describe(target)} is closed.`,
      );
    // The remote `timeout` stops the whole process group of the command when its time is up.
    const seconds = (options.timeoutMs / 1000).toFixed(3);
    const wrapped = `exec timeout --kill-after=${KILL_GRACE_S}s ${seconds}s sh -c ${shellQuote(command)}`;
    const started = Date.now();
    return new Promise<CommandResult>((resolve, reject) => {
      client.exec(wrapped, (error, stream) => {
        if (error !== undefined && error !== null) {
          reject(
            new ConnectionError(
              'lost',
              target.name,
              `Could not start a command on ${describe(target)}: ${error.message}`,
            ),
          );
          return;
        }
        const stdout = new OutputTail();
        const stderr = new OutputTail();
        let stoppedLocally = false;
        const guard = setTimeout(() => {
          stoppedLocally = true;
          stream.close();
        }, options.timeoutMs + LOCAL_GRACE_MS);
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: unknown) => {
          clearTimeout(guard);
          const durationMs = Date.now() - started;
          const exitCode = typeof code === 'number' ? code : null;
          const killedByTimeout =
            (exitCode === 124 || exitCode === 137) && durationMs >= options.timeoutMs - 50;
          resolve({
            exitCode,
            timedOut: stoppedLocally || killedByTimeout,
            stdoutTail: stdout.text(),
            stderrTail: stderr.text(),
            durationMs,
          });
        });
      });
    });
  }

  async close(): Promise<void> {
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      open.map(async (attempt) => (await attempt.catch(() => undefined))?.dispose()),
    );
  }

  private connection(target: HostTarget): Promise<NodeSSH> {
    const key = `${target.user}@${target.address}:${target.port}`;
    const existing = this.connections.get(key);
    if (existing !== undefined) return existing;
    const attempt = this.open(target);
    this.connections.set(key, attempt);
    attempt.then(
      (ssh) => ssh.connection?.once('close', () => this.connections.delete(key)),
      () => this.connections.delete(key),
    );
    return attempt;
  }

  private async credentials(
    target: HostTarget,
  ): Promise<{ privateKey: string } | { agent: string }> {
    const { privateKeyPath, agentSocket } = this.options;
    if (privateKeyPath !== undefined) {
      try {
        return { privateKey: await readFile(privateKeyPath, 'utf8') };
      } catch (error) {
        throw new ConnectionError(
          'no_credentials',
          target.name,
          // The variable, not the path: this is shown in the channel too.
          `Cannot read the SSH private key file that BATON_SSH_KEY names (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the variable and that the file is readable by the user baton runs as.`,
        );
      }
    }
    if (agentSocket !== undefined) return { agent: agentSocket };
    throw new ConnectionError(
      'no_credentials',
      target.name,
      'No SSH credentials: set BATON_SSH_KEY to a private key file, or run an ssh-agent (SSH_AUTH_SOCK).',
    );
  }

  private async knownHosts(target: HostTarget) {
    try {
      return parseKnownHosts(await readFile(this.options.knownHostsPath, 'utf8'));
    } catch (error) {
      throw new ConnectionError(
        'host_key_unknown',
        target.name,
        `Cannot read the known hosts file that BATON_KNOWN_HOSTS names (${(error as NodeJS.ErrnoException).code ?? 'error'}): set it to an OpenSSH known_hosts file. Host keys are always verified.`,
      );
    }
  }

  private async open(target: HostTarget): Promise<NodeSSH> {
    const credentials = await this.credentials(target);
    const lines = await this.knownHosts(target);
    const name = lookupName(target.address, target.port);
    const types = knownKeyTypes(lines, name);
    let presented: Buffer | undefined;
    let verdict: HostKeyVerdict | undefined;
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        ...credentials,
        readyTimeout: this.options.connectTimeoutMs ?? 10_000,
        keepaliveInterval: 15_000,
        hostVerifier: (key: Buffer) => {
          presented = key;
          verdict = verifyHostKey(lines, name, key);
          return verdict === 'trusted';
        },
        ...(types.length === 0
          ? {}
          : {
              algorithms: {
                serverHostKey: types.flatMap((type) =>
                  type === 'ssh-rsa' ? RSA_ALGORITHMS : [type],
                ) as never,
              },
            }),
      });
    } catch (error) {
      ssh.dispose();
      throw this.explain(
        error as Error & { level?: string; code?: string },
        target,
        presented,
        verdict,
      );
    }
    return ssh;
  }

  private explain(
    error: Error & { level?: string; code?: string },
    target: HostTarget,
    presented: Buffer | undefined,
    verdict: HostKeyVerdict | undefined,
  ): ConnectionError {
    // The variable, not the path: these are shown in the channel too.
    const file = 'the BATON_KNOWN_HOSTS file';
    const path = '"$BATON_KNOWN_HOSTS"';
    const name = lookupName(target.address, target.port);
    const seen = presented === undefined ? '' : `${keyTypeOf(presented)} ${fingerprint(presented)}`;
    if (verdict === 'unknown') {
      return new ConnectionError(
        'host_key_unknown',
        target.name,
        `${describe(target)} is not in ${file}; it presented ${seen}. Check that fingerprint with the host's owner, then add it: ssh-keyscan -p ${target.port} ${target.address} >> ${path}`,
      );
    }
    if (verdict === 'mismatch') {
      return new ConnectionError(
        'host_key_mismatch',
        target.name,
        `The host key of ${describe(target)} does not match ${file}: it presented ${seen}. Someone may be intercepting the connection, or the host was rebuilt. If you are sure it was rebuilt, remove the old key (ssh-keygen -R '${name}' -f ${path}) and add the new one.`,
      );
    }
    if (verdict === 'revoked') {
      return new ConnectionError(
        'host_key_revoked',
        target.name,
        `${describe(target)} presented ${seen}, which ${file} marks @revoked.`,
      );
    }
    if (error.level === 'client-authentication') {
      return new ConnectionError(
        'auth_failed',
        target.name,
        `${describe(target)} refused our key for user ${target.user}: add the public key to that user's authorized_keys, or fix ssh.user in the playbook.`,
      );
    }
    if (/timed out/i.test(error.message)) {
      return new ConnectionError(
        'timeout',
        target.name,
        `${describe(target)} did not complete the SSH handshake in time: ${error.message}.`,
      );
    }
    return new ConnectionError(
      'unreachable',
      target.name,
      `Cannot connect to ${describe(target)}: ${error.code ?? error.message}.`,
    );
  }
}
