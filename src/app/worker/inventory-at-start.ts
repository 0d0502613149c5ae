import { readInventory } from '../../core/playbook/index.js';
import {
  applyInventoryChanges,
  describeInventoryChanges,
  type InventoryChange,
  type Plan,
} from '../../core/rollout/index.js';
import type { InventorySource } from '../inventory-ports.js';

export type InventoryAtStart =
  { ok: true; plan: Plan; changes: InventoryChange[] } | { ok: false; detail: string[] };

/**
 * Runs the plan's inventories again as its rollout starts (an approval may have waited while
 * the fleet changed): hosts gone from them are left out, hosts new in them are named, and an
 * inventory that fails now refuses the rollout, as it would have refused the plan.
 */
export async function inventoryAtStart(
  plan: Plan,
  source: InventorySource | undefined,
): Promise<InventoryAtStart> {
  const groups = plan.groups.filter((group) => group.inventory !== undefined);
  if (source === undefined || groups.length === 0) return { ok: true, plan, changes: [] };
  const listed = new Map<string, string[]>();
  const problems: string[] = [];
  await Promise.all(
    groups.map(async (group) => {
      const inventory = group.inventory as NonNullable<typeof group.inventory>;
      const what = `the inventory of group ${group.name} (hosts_from: ${inventory.command})`;
      const run = await source.list(inventory.command, { timeoutMs: inventory.timeoutMs });
      if (!run.ok) {
        const why =
          run.reason === 'timed_out'
            ? 'timed out'
            : run.reason === 'too_much_output'
              ? 'printed too much'
              : `failed${run.exitCode === null ? '' : ` (exit ${run.exitCode})`}`;
        problems.push(
          `${what} ${why} as the rollout started${run.output === '' ? '' : `: ${run.output}`}`,
        );
        return;
      }
      // Only the names are compared: ports and users of the hosts are as planned.
      const hosts = readInventory(run.stdout, inventory, { user: plan.sshUser, port: 22 });
      if (!hosts.ok)
        problems.push(`${what} cannot be used as the rollout started: ${hosts.message}`);
      else
        listed.set(
          group.name,
          hosts.hosts.map((host) => host.name),
        );
    }),
  );
  if (problems.length > 0) return { ok: false, detail: problems };
  const started = applyInventoryChanges(plan, listed);
  // Every planned host gone: there is nothing approved left to deploy to, and a plan of no group
  // is no plan (the rollout could neither start nor be stored).
  if (started.plan.groups.length === 0)
    return {
      ok: false,
      detail: describeInventoryChanges(started.changes).concat(
        'none of the planned hosts is listed any more: ask again to deploy to the hosts listed now',
      ),
    };
  return { ok: true, ...started };
}
