// The physical floor of a rolling restart, measured on the fleet itself: one restart command over
// an open connection, then the time until the first 200, times the number of groups. Shared by
// the benches that compare baton with it.
import type { SshExecutor } from '../src/adapters/ssh/ssh-executor.js';
import type { HostTarget } from '../src/app/ports.js';
import type { Fleet } from '../test/fleet/fleet.js';

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** Resolves at the first 200 from `url`, checking every 2 ms. */
export async function firstHealthy(url: string): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function fleetTargets(fleet: Fleet): HostTarget[] {
  return fleet.hosts.map((host) => ({
    name: host.name,
    address: host.address,
    port: host.sshPort,
    user: 'root',
  }));
}

export interface Floor {
  commandMs: number;
  spinupMs: number;
  /** groups × (command + spin-up) */
  floorMs: number;
}

/** Restarts one host `trials` times over an open connection; `tag` keeps the versions apart. */
export async function measureFloor(
  fleet: Fleet,
  executor: SshExecutor,
  groups: number,
  tag: string,
  trials = 5,
): Promise<Floor> {
  const target = fleetTargets(fleet)[0] as HostTarget;
  await executor.connect(target);
  const commands: number[] = [];
  const spinups: number[] = [];
  for (let i = 0; i < trials; i++) {
    const started = performance.now();
    await executor.run(target, `${fleet.fleetctl} restart v${tag}${i}`, { timeoutMs: 10_000 });
    const restarted = performance.now();
    await firstHealthy(`${fleet.baseUrl(fleet.hosts[0] as Fleet['hosts'][number])}/health`);
    commands.push(restarted - started);
    spinups.push(performance.now() - restarted);
  }
  const commandMs = median(commands);
  const spinupMs = median(spinups);
  return { commandMs, spinupMs, floorMs: groups * (commandMs + spinupMs) };
}
