import {
  readInventory,
  withInventories,
  type Environment,
  type Host,
  type Playbook,
} from '../core/playbook/index.js';
import { formatDuration } from '../core/duration.js';
import type { InventoryRun, InventorySource } from './inventory-ports.js';

/** Why an inventory could not be used: what ran, what it said, and what to do. */
function failure(
  group: string,
  command: string,
  run: InventoryRun & { ok: false },
  timeoutMs: number,
): string {
  const what = `the inventory of group ${group} (hosts_from: ${command})`;
  const said = run.output === '' ? '' : `: ${run.output}`;
  switch (run.reason) {
    case 'timed_out':
      return `${what} did not finish within ${formatDuration(timeoutMs)} and was stopped${said}. Raise hosts_from.timeout, or make the command faster.`;
    case 'too_much_output':
      return `${what} printed more than 1 MiB: print only the hosts, one per line or as a JSON array.`;
    case 'failed':
      return `${what} failed${run.exitCode === null ? '' : ` (exit ${run.exitCode})`}${said}`;
  }
}

export type InventoriesRead =
  { ok: true; playbook: Playbook; listed: Map<string, Host[]> } | { ok: false; message: string };

/**
 * Runs the inventories of an environment's groups (all at once) and gives the playbook with their
 * hosts filled in. A command that fails, times out or lists no host refuses the plan.
 */
export async function readInventories(
  source: InventorySource | undefined,
  playbook: Playbook,
  environment: Environment,
): Promise<InventoriesRead> {
  const groups = environment.groups.filter((group) => group.inventory !== undefined);
  if (groups.length === 0) return { ok: true, playbook, listed: new Map() };
  if (source === undefined)
    return { ok: false, message: 'this process cannot run inventories (hosts_from).' };
  const results = await Promise.all(
    groups.map(async (group) => {
      const inventory = group.inventory as NonNullable<typeof group.inventory>;
      const run = await source.list(inventory.command, { timeoutMs: inventory.timeoutMs });
      if (!run.ok)
        return {
          ok: false as const,
          message: failure(group.name, inventory.command, run, inventory.timeoutMs),
        };
      const hosts = readInventory(run.stdout, inventory, playbook.ssh);
      if (!hosts.ok)
        return {
          ok: false as const,
          message: `the inventory of group ${group.name} (hosts_from: ${inventory.command}) cannot be used: ${hosts.message}.`,
        };
      return { ok: true as const, group: group.name, hosts: hosts.hosts };
    }),
  );
  const listed = new Map<string, Host[]>();
  for (const result of results) {
    if (!result.ok) return result;
    listed.set(result.group, result.hosts);
  }
  const filled = withInventories(playbook, environment, listed);
  return filled.ok ? { ok: true, playbook: filled.playbook, listed } : filled;
}
