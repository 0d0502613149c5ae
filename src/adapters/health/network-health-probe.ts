import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ExecutorClosedError,
  isHostFailure,
  type CommandResult,
  type HealthProbe,
  type HostTarget,
  type ProbeResult,
  type RemoteExecutor,
} from '../../app/ports.js';
import type { Probe } from '../../core/rollout/index.js';
import { getThrough, opened } from './through-tunnel.js';

/** Connections made from the last jump host on the way to a target (the SSH executor makes them). */
export interface Tunnels {
  forward(target: HostTarget, address: string, port: number): Promise<Duplex>;
}

const DETAIL_MAX = 200;
const HEADERS = { 'user-agent': 'baton-health-check' };

function judge(probe: Extract<Probe, { kind: 'http' }>, status: number, body: string): ProbeResult {
  return { ...verdict(probe, status, body), body };
}

function verdict(
  probe: Extract<Probe, { kind: 'http' }>,
  status: number,
  body: string,
): ProbeResult {
  if (status !== probe.status)
    return {
      healthy: false,
      detail: `HTTP ${status} (want ${probe.status}): ${body.trim().slice(0, DETAIL_MAX)}`,
    };
  if (probe.bodyContains !== undefined && !body.includes(probe.bodyContains))
    return {
      healthy: false,
      detail: `HTTP ${status} but the body lacks "${probe.bodyContains}": ${body.trim().slice(0, DETAIL_MAX)}`,
    };
  return { healthy: true, detail: `HTTP ${status}` };
}

/** Why a connection made through a jump host failed, in the words used for direct ones. */
function tunnelDetail(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError')
    return 'no answer in time';
  const message = (error as Error).message.replace(/^\(SSH\) /, '');
  return /connection refused/i.test(message) ? 'connection refused' : message;
}

function errorDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code !== undefined)
    return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  return (error as Error).message;
}

/**
 * Health checks over HTTP and TCP from here, and by command on the host over SSH. For a host
 * behind jump hosts, HTTP and TCP checks start at the last jump host, over the SSH connection
 * baton already has to it: from here the host cannot be reached at all.
 */
export class NetworkHealthProbe implements HealthProbe {
  constructor(
    private readonly executor: RemoteExecutor,
    private readonly tunnels?: Tunnels,
  ) {}

  async check(probe: Probe, target: HostTarget, signal: AbortSignal): Promise<ProbeResult> {
    const behindJumps = (target.jump ?? []).length > 0;
    if (behindJumps && probe.kind !== 'command' && this.tunnels === undefined)
      return {
        healthy: false,
        detail: `${target.name} is behind jump hosts, and this executor cannot open connections through them`,
      };
    switch (probe.kind) {
      case 'http':
        return behindJumps ? this.httpThrough(probe, target, signal) : this.http(probe, signal);
      case 'tcp':
        return behindJumps ? this.tcpThrough(probe, target, signal) : this.tcp(probe, signal);
      case 'command': {
        let result: CommandResult;
        try {
          result = await this.executor.run(target, probe.command, { timeoutMs: probe.timeoutMs });
        } catch (error) {
          // A host that cannot be reached right now fails this check, as an HTTP one would; a
          // closed executor says nothing of the host, and is the caller's to handle.
          if (!isHostFailure(error)) throw error;
          return { healthy: false, detail: error.message };
        }
        if (result.exitCode === 0) return { healthy: true, detail: 'exit 0' };
        const output = (result.stderrTail || result.stdoutTail).trim().split('\n').at(-1) ?? '';
        return {
          healthy: false,
          detail: result.timedOut
            ? 'check timed out'
            : `exit ${result.exitCode ?? 'none'}${output === '' ? '' : `: ${output.slice(0, DETAIL_MAX)}`}`,
        };
      }
    }
  }

  private async http(
    probe: Extract<Probe, { kind: 'http' }>,
    signal: AbortSignal,
  ): Promise<ProbeResult> {
    try {
      const response = await fetch(probe.url, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(probe.requestTimeoutMs)]),
        headers: HEADERS,
      });
      return judge(probe, response.status, await response.text());
    } catch (error) {
      return { healthy: false, detail: errorDetail(error) };
    }
  }

  private async httpThrough(
    probe: Extract<Probe, { kind: 'http' }>,
    target: HostTarget,
    signal: AbortSignal,
  ): Promise<ProbeResult> {
    const tunnels = this.tunnels as Tunnels;
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(probe.requestTimeoutMs)]);
    try {
      const { status, body } = await getThrough(
        (address, port) => tunnels.forward(target, address, port),
        probe.url,
        { signal: bounded, headers: HEADERS },
      );
      return judge(probe, status, body);
    } catch (error) {
      if (error instanceof ExecutorClosedError) throw error;
      return { healthy: false, detail: tunnelDetail(error, bounded) };
    }
  }

  private async tcpThrough(
    probe: Extract<Probe, { kind: 'tcp' }>,
    target: HostTarget,
    signal: AbortSignal,
  ): Promise<ProbeResult> {
    const tunnels = this.tunnels as Tunnels;
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(probe.connectTimeoutMs)]);
    try {
      (await opened(tunnels.forward(target, probe.address, probe.port), bounded)).destroy();
      return { healthy: true, detail: 'port open' };
    } catch (error) {
      if (error instanceof ExecutorClosedError) throw error;
      return { healthy: false, detail: tunnelDetail(error, bounded) };
    }
  }

  private tcp(probe: Extract<Probe, { kind: 'tcp' }>, signal: AbortSignal): Promise<ProbeResult> {
    return new Promise((resolve) => {
      const socket = connect({
        host: probe.address,
        port: probe.port,
        timeout: probe.connectTimeoutMs,
        signal,
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ healthy: true, detail: 'port open' });
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve({ healthy: false, detail: 'connect timed out' });
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve({
          healthy: false,
          detail:
            error.code === 'ECONNREFUSED' ? 'connection refused' : (error.code ?? error.message),
        }),
      );
    });
  }
}
