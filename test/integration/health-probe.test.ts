import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkHealthProbe } from '../../src/adapters/health/network-health-probe.js';
import { SshExecutor } from '../../src/adapters/ssh/ssh-executor.js';
import type { HostTarget } from '../../src/app/ports.js';
import type { Probe } from '../../src/core/rollout/index.js';
import { Fleet } from '../fleet/fleet.js';

let fleet: Fleet;
let executor: SshExecutor;
let target: HostTarget;
let health: NetworkHealthProbe;
const signal = new AbortController().signal;

beforeAll(async () => {
  fleet = await Fleet.start({ hosts: 1, subnet: 104 });
  executor = new SshExecutor({
    knownHostsPath: fleet.knownHostsPath,
    privateKeyPath: fleet.clientKeyPath,
  });
  const host = fleet.hosts[0] as Fleet['hosts'][number];
  target = { name: host.name, address: host.address, port: host.sshPort, user: 'root' };
  health = new NetworkHealthProbe(executor);
});
afterAll(async () => {
  await executor?.close();
  await fleet?.stop();
});

const http = (overrides: Partial<Extract<Probe, { kind: 'http' }>> = {}): Probe => ({
  kind: 'http',
  url: `http://${target.address}:8080/health`,
  status: 200,
  requestTimeoutMs: 1000,
  ...overrides,
});

describe('NetworkHealthProbe', () => {
  it.each<[string, () => Probe, boolean, string | RegExp]>([
    ['HTTP with the expected status', () => http(), true, 'HTTP 200'],
    ['HTTP with the expected body', () => http({ bodyContains: 'ok v1' }), true, 'HTTP 200'],
    [
      'HTTP whose body lacks the version',
      () => http({ bodyContains: 'v2' }),
      false,
      'HTTP 200 but the body lacks "v2": ok v1',
    ],
    ['HTTP with another status', () => http({ status: 204 }), false, 'HTTP 200 (want 204): ok v1'],
    [
      'HTTP to a closed port',
      () => http({ url: `http://${target.address}:8099/health` }),
      false,
      'connection refused',
    ],
    [
      'TCP to an open port',
      () => ({ kind: 'tcp', address: target.address, port: 8080, connectTimeoutMs: 1000 }),
      true,
      'port open',
    ],
    [
      'TCP to a closed port',
      () => ({ kind: 'tcp', address: target.address, port: 8099, connectTimeoutMs: 1000 }),
      false,
      'connection refused',
    ],
    [
      'a command on the host that passes',
      () => ({ kind: 'command', command: `${fleet.fleetctl} status`, timeoutMs: 5000 }),
      true,
      'exit 0',
    ],
    [
      'a command on the host that fails',
      () => ({ kind: 'command', command: 'echo degraded >&2; exit 2', timeoutMs: 5000 }),
      false,
      'exit 2: degraded',
    ],
    [
      'a command on the host that hangs',
      () => ({ kind: 'command', command: 'sleep 10', timeoutMs: 300 }),
      false,
      'check timed out',
    ],
  ])('%s', async (_, probe, healthy, detail) => {
    const result = await health.check(probe(), target, signal);
    expect(result.healthy).toBe(healthy);
    expect(result.detail).toMatch(detail);
  });
});
