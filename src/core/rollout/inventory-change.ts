import type { Host } from '../playbook/model.js';
import type { InventoryChange, NotUpdatedHost, Plan } from './plan.js';

/**
 * The plan as its rollout starts, against the hosts its inventories list now (by group name).
 * Hosts no longer listed are left out (they may be gone) and named as not updated; hosts listed
 * now but not planned are only named: nobody approved deploying to them.
 */
export function applyInventoryChanges(
  plan: Plan,
  listed: ReadonlyMap<string, readonly string[]>,
): { plan: Plan; changes: InventoryChange[] } {
  const changes: InventoryChange[] = [];
  const left: NotUpdatedHost[] = [];
  const groups = plan.groups
    .map((group) => {
      const now = listed.get(group.name);
      if (group.inventory === undefined || now === undefined) return group;
      const planned = group.hosts.map((host) => host.name);
      const added = now.filter((name) => !planned.includes(name));
      const removed = planned.filter((name) => !now.includes(name));
      if (added.length === 0 && removed.length === 0) return group;
      changes.push({ group: group.name, added, removed });
      for (const host of removed)
        left.push({ host, group: group.name, detail: 'no longer listed by its inventory' });
      const hosts = group.hosts.filter((host) => now.includes(host.name));
      return { ...group, hosts, parallel: Math.max(1, Math.min(group.parallel, hosts.length)) };
    })
    .filter((group) => group.hosts.length > 0);
  if (changes.length === 0) return { plan, changes };
  return {
    plan: {
      ...plan,
      groups,
      inventoryChanges: changes,
      notUpdated: [...(plan.notUpdated ?? []), ...left],
    },
    changes,
  };
}

/** `group a: +web-07, −web-03` for each group whose inventory changed. */
export function describeInventoryChanges(changes: readonly InventoryChange[]): string[] {
  return changes.map((change) => {
    const parts = [
      ...(change.removed.length === 0
        ? []
        : [`no longer listed (not updated): ${change.removed.join(', ')}`]),
      ...(change.added.length === 0
        ? []
        : [`newly listed (not in the approved plan, not deployed to): ${change.added.join(', ')}`]),
    ];
    return `inventory of ${change.group} changed since the plan: ${parts.join('; ')}`;
  });
}

/**
 * The hosts a plan's inventories listed, as playbook hosts: planning an approved request again
 * (the playbook or running version may have changed) keeps the hosts that were approved.
 */
export function plannedInventories(plan: Plan): Map<string, Host[]> {
  return new Map(
    plan.groups
      .filter((group) => group.inventory !== undefined)
      .map((group) => [
        group.name,
        group.hosts.map((host) => ({
          name: host.name,
          address: host.address,
          port: host.port,
          ...(host.user === undefined ? {} : { user: host.user }),
          ...(host.identityFile === undefined ? {} : { identityFile: host.identityFile }),
          ...(host.jump === undefined ? {} : { jump: host.jump }),
        })),
      ]),
  );
}
