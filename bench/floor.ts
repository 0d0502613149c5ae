// The physical floor of a rolling restart, measured on the fleet itself: one restart command over
// an open connection, then the time until the first 200, times the number of groups. Shared by
// the benches that compare baton with it.
import { loadPlaybookDirectory } from '../src/adapters/playbooks/playbook-directory.js';
import type { SshExecutor } from '../src/adapters/ssh/ssh-executor.js';
import type { HostTarget } from '../src/app/ports.js';
import type { Playbook } from '../src/core/playbook/model.js';
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

/** The benches' playbook: the fleet's hosts in `groups` equal groups, restarted `parallel` at once. */
export async function groupedPlaybook(
  fleet: Fleet,
  groups: number,
  parallel: number,
): Promise<Playbook> {
  const perGroup = fleet.hosts.length / groups;
  await fleet.writePlaybook({
    groups: Array.from({ length: groups }, (_, g) => ({
      hosts: Array.from({ length: perGroup }, (_, i) => g * perGroup + i),
      parallel,
    })),
    steps: 'restart',
    healthInterval: '500ms',
  });
  const playbook = (await loadPlaybookDirectory(fleet.playbooksDir)).playbooks.get('fleet');
  if (playbook === undefined) throw new Error('bench playbook is invalid');
  return playbook;
}

/**
 * The floor at a group's real concurrency: the first `perGroup` hosts restarted at once by hand,
 * each checked every 2 ms, median of `trials`, times the number of groups.
 */
export async function groupAtOnceFloor(
  fleet: Fleet,
  executor: SshExecutor,
  perGroup: number,
  groups: number,
  tag: string,
  trials = 3,
): Promise<number> {
  const times: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const started = performance.now();
    await Promise.all(
      fleetTargets(fleet)
        .slice(0, perGroup)
        .map(async (target, index) => {
          await executor.run(target, `${fleet.fleetctl} restart v${tag}${trial}`, {
            timeoutMs: 10_000,
          });
          await firstHealthy(
            `${fleet.baseUrl(fleet.hosts[index] as Fleet['hosts'][number])}/health`,
          );
        }),
    );
    times.push(performance.now() - started);
  }
  return groups * median(times);
}
