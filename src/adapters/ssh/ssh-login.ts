import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { NodeSSH } from 'node-ssh';
import { ConnectionError, type HostTarget, type JumpTarget } from '../../app/ports.js';
import {
  fingerprint,
  keyTypeOf,
  knownKeyTypes,
  lookupName,
  verifyHostKey,
  type HostKeyVerdict,
} from './known-hosts.js';
import { KnownHostsFile } from './known-hosts-file.js';

/**
 * One SSH login, to a target or to a jump host on the way to it, with the host key verified
 * against known_hosts whichever it is. Failures become ConnectionErrors that name the host that
 * failed (the hop, when it is one) and say how to fix it.
 */

export interface LoginOptions {
  /** OpenSSH known_hosts file; every host key is checked against it, always. */
  knownHostsPath: string;
  /** Private key file; without it the ssh-agent at `agentSocket` is used. */
  privateKeyPath?: string;
  agentSocket?: string;
  connectTimeoutMs?: number;
}

/** Where one login goes, and what it is for (messages name a hop as a jump host). */
export interface LoginPlace {
  endpoint: JumpTarget;
  /** The target the connection is for: errors are about it. */
  target: HostTarget;
  /** The jump hosts before this one, outermost first. */
  before: JumpTarget[];
  hop: boolean;
}

/** An open login, with what was trusted when it was made (checked again before each reuse). */
export interface Login {
  ssh: NodeSSH;
  /** The name known_hosts is searched for. */
  knownAs: string;
  /** The host key the server presented, which known_hosts trusted at login. */
  hostKey: Buffer;
}

const RSA_ALGORITHMS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
// Key exchange and ciphers stay ssh2's own order (curve25519, AES-GCM first): measured against
// the others it offers (bench/ssh-handshake.ts), none saved the worker more than about 1 ms of CPU
// per login, within the noise; the wall time of a login is the server's.

export const describeEndpoint = (endpoint: JumpTarget): string =>
  `${endpoint.name} (${endpoint.address}:${endpoint.port})`;

function who(place: LoginPlace): string {
  return `${place.hop ? 'jump host ' : ''}${describeEndpoint(place.endpoint)}`;
}

/**
 * How to add a host's key: ssh-keyscan when it can be reached from here; behind a jump host it
 * cannot, so the line itself, made of the key it presented.
 */
function addKey(place: LoginPlace, file: string, presented: Buffer | undefined): string {
  const { endpoint, before } = place;
  if (before.length === 0 || presented === undefined)
    return `ssh-keyscan -p ${endpoint.port} ${endpoint.address} >> ${file}`;
  const line = `${lookupName(endpoint.address, endpoint.port)} ${keyTypeOf(presented)} ${presented.toString('base64')}`;
  return `echo '${line}' >> ${file}`;
}

export class SshLogin {
  readonly knownHostsFile: KnownHostsFile;

  constructor(private readonly options: LoginOptions) {
    this.knownHostsFile = new KnownHostsFile(options.knownHostsPath);
  }

  /**
   * Logs in to `place`, directly or over `via` (a forwarded channel from the hop before it);
   * `stop` gives the login up wherever it is.
   */
  async open(place: LoginPlace, via?: NodeSSH, stop?: AbortSignal): Promise<Login> {
    const credentials = await this.credentials(place);
    const lines = await this.knownHosts(place);
    const { endpoint } = place;
    const name = lookupName(endpoint.address, endpoint.port);
    const types = knownKeyTypes(lines, name);
    const sock = via === undefined ? undefined : await this.forward(place, via);
    let presented: Buffer | undefined;
    let verdict: HostKeyVerdict | undefined;
    // Loaded with the first login: a command that never logs in (status, a deploy a worker
    // elsewhere runs) does not load ssh2's ~35 files.
    const { NodeSSH } = await import('node-ssh');
    const ssh = new NodeSSH();
    const giveUp = () => ssh.connection?.destroy();
    stop?.addEventListener('abort', giveUp, { once: true });
    try {
      stop?.throwIfAborted();
      await ssh.connect({
        ...(sock === undefined ? { host: endpoint.address, port: endpoint.port } : { sock }),
        username: endpoint.user,
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
      sock?.destroy();
      throw this.explain(
        error as Error & { level?: string; code?: string },
        place,
        presented,
        verdict,
      );
    } finally {
      stop?.removeEventListener('abort', giveUp);
    }
    return { ssh, knownAs: name, hostKey: presented as Buffer };
  }

  /** A TCP connection to `place` opened by the hop before it. */
  private async forward(place: LoginPlace, via: NodeSSH): Promise<Duplex> {
    const { endpoint } = place;
    try {
      return await via.forwardOut('127.0.0.1', 0, endpoint.address, endpoint.port);
    } catch (error) {
      const from = place.before.at(-1);
      throw new ConnectionError(
        'unreachable',
        place.target.name,
        `Cannot connect to ${who(place)} from jump host ${from === undefined ? '' : describeEndpoint(from)}: ${(error as Error).message.replace(/^\(SSH\) /, '')}.`,
      );
    }
  }

  private async credentials(
    place: LoginPlace,
  ): Promise<{ privateKey: string } | { agent: string }> {
    const own = place.endpoint.identityFile;
    const { privateKeyPath, agentSocket } = this.options;
    const path = own ?? privateKeyPath;
    if (path !== undefined) {
      try {
        return { privateKey: await readFile(path, 'utf8') };
      } catch (error) {
        throw new ConnectionError(
          'no_credentials',
          place.target.name,
          // The variable, not the path: this is shown in the channel too.
          `Cannot read the SSH private key file that ${own === undefined ? 'BATON_SSH_KEY names' : `the ssh config's IdentityFile of ${who(place)} names`} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check it, and that the file is readable by the user baton runs as.`,
        );
      }
    }
    if (agentSocket !== undefined) return { agent: agentSocket };
    throw new ConnectionError(
      'no_credentials',
      place.target.name,
      'No SSH credentials: set BATON_SSH_KEY to a private key file, or run an ssh-agent (SSH_AUTH_SOCK).',
    );
  }

  private async knownHosts(place: LoginPlace) {
    try {
      return await this.knownHostsFile.lines();
    } catch (error) {
      throw new ConnectionError(
        'host_key_unknown',
        place.target.name,
        `Cannot read the known hosts file that BATON_KNOWN_HOSTS names (${(error as NodeJS.ErrnoException).code ?? 'error'}): set it to an OpenSSH known_hosts file. Host keys are always verified.`,
      );
    }
  }

  private explain(
    error: Error & { level?: string; code?: string },
    place: LoginPlace,
    presented: Buffer | undefined,
    verdict: HostKeyVerdict | undefined,
  ): ConnectionError {
    // The variable, not the path: these are shown in the channel too.
    const file = 'the BATON_KNOWN_HOSTS file';
    const path = '"$BATON_KNOWN_HOSTS"';
    const { endpoint, target } = place;
    const name = lookupName(endpoint.address, endpoint.port);
    const seen = presented === undefined ? '' : `${keyTypeOf(presented)} ${fingerprint(presented)}`;
    const failure = (code: ConnectionError['code'], message: string) =>
      new ConnectionError(code, target.name, message);
    if (verdict === 'unknown')
      return failure(
        'host_key_unknown',
        `${who(place)} is not in ${file}; it presented ${seen}. Check that fingerprint with the host's owner, then add it: ${addKey(place, path, presented)}`,
      );
    if (verdict === 'mismatch')
      return failure(
        'host_key_mismatch',
        `The host key of ${who(place)} does not match ${file}: it presented ${seen}. Someone may be intercepting the connection, or the host was rebuilt. If you are sure it was rebuilt, remove the old key (ssh-keygen -R '${name}' -f ${path}) and add the new one.`,
      );
    if (verdict === 'revoked')
      return failure(
        'host_key_revoked',
        `${who(place)} presented ${seen}, which ${file} marks @revoked.`,
      );
    if (error.level === 'client-authentication')
      return failure(
        'auth_failed',
        `${who(place)} refused our key for user ${endpoint.user}: add the public key to that user's authorized_keys, or fix ${place.hop ? 'the user of that jump host' : 'ssh.user'} in the playbook.`,
      );
    if (/timed out/i.test(error.message))
      return failure(
        'timeout',
        `${who(place)} did not complete the SSH handshake in time: ${error.message}.`,
      );
    return failure(
      'unreachable',
      `Cannot connect to ${who(place)}: ${error.code ?? error.message}.`,
    );
  }
}
