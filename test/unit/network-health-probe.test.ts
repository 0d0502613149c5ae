import { describe, expect, it } from 'vitest';
import { NetworkHealthProbe } from '../../src/adapters/health/network-health-probe.js';
import {
  ConnectionError,
  ExecutorClosedError,
  type HostTarget,
  type RemoteExecutor,
} from '../../src/app/ports.js';
import type { Probe } from '../../src/core/rollout/index.js';

const target: HostTarget = { name: 'h', address: 'h', port: 22, user: 'deploy' };
const probe: Probe = { kind: 'command', command: 'systemctl is-active app', timeoutMs: 1000 };

function executorThat(error: Error): RemoteExecutor {
  return {
    connect: async () => {},
    close: async () => {},
    run: async () => {
      throw error;
    },
  };
}

describe('NetworkHealthProbe, command checks', () => {
  it('takes a host it cannot reach right now for a failed check, to be checked again', async () => {
    const health = new NetworkHealthProbe(
      executorThat(new ConnectionError('lost', 'h', 'Could not start a command on h: reset')),
    );
    expect(await health.check(probe, target, new AbortController().signal)).toEqual({
      healthy: false,
      detail: 'Could not start a command on h: reset',
    });
  });

  it('leaves a closed executor to its caller: it says nothing of the host', async () => {
    const health = new NetworkHealthProbe(executorThat(new ExecutorClosedError('h', 'closed')));
    await expect(health.check(probe, target, new AbortController().signal)).rejects.toBeInstanceOf(
      ExecutorClosedError,
    );
  });
});

describe('NetworkHealthProbe, behind jump hosts', () => {
  const behind: HostTarget = {
    ...target,
    jump: [{ name: 'bastion', address: 'bastion', port: 22, user: 'ops' }],
  };
  const checks: Probe[] = [
    { kind: 'http', url: 'http://h/health', status: 200, requestTimeoutMs: 1000 },
    { kind: 'tcp', address: 'h', port: 80, connectTimeoutMs: 1000 },
  ];

  it('takes a tunnel that cannot be opened for a failed check, and leaves a closed executor to its caller', async () => {
    for (const check of checks) {
      const refused = new NetworkHealthProbe(executorThat(new Error('unused')), {
        forward: async () => {
          throw new Error('(SSH) Channel open failure: Connection refused');
        },
      });
      expect(await refused.check(check, behind, new AbortController().signal)).toEqual({
        healthy: false,
        detail: 'connection refused',
      });
      const closed = new NetworkHealthProbe(executorThat(new Error('unused')), {
        forward: async () => {
          throw new ExecutorClosedError('h', 'closed');
        },
      });
      await expect(
        closed.check(check, behind, new AbortController().signal),
      ).rejects.toBeInstanceOf(ExecutorClosedError);
    }
  });
});
