import { connect } from 'node:net';
import type { HealthProbe, HostTarget, ProbeResult, RemoteExecutor } from '../../app/ports.js';
import type { Probe } from '../../core/rollout/index.js';

const DETAIL_MAX = 200;

function errorDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code !== undefined)
    return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  return (error as Error).message;
}

/** Health checks over HTTP and TCP from here, and by command on the host over SSH. */
export class NetworkHealthProbe implements HealthProbe {
  constructor(private readonly executor: RemoteExecutor) {}

  async check(probe: Probe, target: HostTarget, signal: AbortSignal): Promise<ProbeResult> {
    switch (probe.kind) {
      case 'http':
        return this.http(probe, signal);
      case 'tcp':
        return this.tcp(probe, signal);
      case 'command': {
        const result = await this.executor.run(target, probe.command, {
          timeoutMs: probe.timeoutMs,
        });
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
        headers: { 'user-agent': 'baton-health-check' },
      });
      const body = await response.text();
      if (response.status !== probe.status) {
        return {
          healthy: false,
          detail: `HTTP ${response.status} (want ${probe.status}): ${body.trim().slice(0, DETAIL_MAX)}`,
        };
      }
      if (probe.bodyContains !== undefined && !body.includes(probe.bodyContains)) {
        return {
          healthy: false,
          detail: `HTTP ${response.status} but the body lacks "${probe.bodyContains}": ${body.trim().slice(0, DETAIL_MAX)}`,
        };
      }
      return { healthy: true, detail: `HTTP ${response.status}` };
    } catch (error) {
      return { healthy: false, detail: errorDetail(error) };
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
