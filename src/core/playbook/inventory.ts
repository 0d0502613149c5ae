import type { Environment, Host, Inventory, JumpHost, Playbook } from './model.js';
import { HostSchema, NO_JUMP, parseHopText, parseHostText, type HostEntry } from './schema.js';

/**
 * What an inventory command printed, read as the hosts of its group: one host per line
 * (`name`, `name:port`; blank lines and `#` comments skipped), or a JSON array of hosts as a
 * playbook's `hosts` takes them (`"name:port"` or `{address, port, name, user, jump}`).
 */

export type InventoryHosts = { ok: true; hosts: Host[] } | { ok: false; message: string };

/** More hosts than this in one group is taken for a command that printed something else. */
export const MAX_INVENTORY_HOSTS = 10_000;
const DEFAULT_HOP_PORT = 22;

function entries(
  output: string,
): { ok: true; entries: unknown[] } | { ok: false; message: string } {
  const text = output.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return { ok: true, entries: parsed };
    } catch (error) {
      return {
        ok: false,
        message: `its output starts with [ but is not JSON: ${(error as Error).message}`,
      };
    }
  }
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return { ok: true, entries: lines };
}

function hops(written: string | string[], user: string): JumpHost[] {
  if (written === NO_JUMP) return [];
  return (typeof written === 'string' ? [written] : written).map((text) => {
    const hop = parseHopText(text) as { user?: string; host: string; port?: number };
    return {
      name: hop.host,
      address: hop.host,
      port: hop.port ?? DEFAULT_HOP_PORT,
      user: hop.user ?? user,
    };
  });
}

function toHost(entry: HostEntry, inventory: Inventory, ssh: { user: string; port: number }): Host {
  if (typeof entry === 'string') {
    const { address, port } = parseHostText(entry) as { address: string; port?: number };
    return {
      name: entry,
      address,
      port: port ?? ssh.port,
      ...(inventory.jump === undefined ? {} : { jump: inventory.jump }),
    };
  }
  const port = entry.port ?? ssh.port;
  const shown = entry.address.includes(':') ? `[${entry.address}]` : entry.address;
  const jump = entry.jump === undefined ? inventory.jump : hops(entry.jump, ssh.user);
  return {
    name: entry.name ?? (entry.port === undefined ? entry.address : `${shown}:${port}`),
    address: entry.address,
    port,
    ...(entry.user === undefined ? {} : { user: entry.user }),
    ...(jump === undefined || jump.length === 0 ? {} : { jump }),
  };
}

const endpoint = (host: Host): string =>
  `${host.address.includes(':') ? `[${host.address}]` : host.address}:${host.port}`;

/**
 * What tells machines apart: names differ (`web-01`, `web-01:22`, or two names of one address)
 * where the machine does not, and the same private address behind two bastions is two machines.
 */
function machine(host: Host): string {
  return [...(host.jump ?? []).map(endpoint), endpoint(host)].join(' > ');
}

export function readInventory(
  output: string,
  inventory: Inventory,
  ssh: { user: string; port: number },
): InventoryHosts {
  const read = entries(output);
  if (!read.ok) return read;
  if (read.entries.length === 0) return { ok: false, message: 'it printed no hosts' };
  if (read.entries.length > MAX_INVENTORY_HOSTS)
    return {
      ok: false,
      message: `it printed ${read.entries.length} hosts; a group takes at most ${MAX_INVENTORY_HOSTS}`,
    };
  const hosts: Host[] = [];
  for (const [index, entry] of read.entries.entries()) {
    const parsed = HostSchema.safeParse(entry);
    if (!parsed.success) {
      const shown = JSON.stringify(entry).slice(0, 80);
      return {
        ok: false,
        message: `host ${index + 1} (${shown}) is not a host: print a hostname or IP, optionally with :port, or a JSON object {address, port, name, user, jump}`,
      };
    }
    hosts.push(toHost(parsed.data, inventory, ssh));
  }
  const byName = new Map<string, Host>();
  const byMachine = new Map<string, Host>();
  for (const host of hosts) {
    if (byName.has(host.name)) return { ok: false, message: `it lists ${host.name} twice` };
    const same = byMachine.get(machine(host));
    if (same !== undefined)
      return {
        ok: false,
        message: `it lists ${same.name} and ${host.name}, the same host (${endpoint(host)})`,
      };
    byName.set(host.name, host);
    byMachine.set(machine(host), host);
  }
  return { ok: true, hosts };
}

/**
 * The environment with its inventory groups' hosts filled in from `lists` (by group name). A host
 * must still belong to one group only: one an inventory also lists elsewhere is refused.
 */
export function withInventories(
  playbook: Playbook,
  environment: Environment,
  lists: ReadonlyMap<string, Host[]>,
): { ok: true; playbook: Playbook } | { ok: false; message: string } {
  const groups = environment.groups.map((group) => ({
    ...group,
    hosts: group.inventory === undefined ? group.hosts : (lists.get(group.name) ?? []),
  }));
  const ownerByName = new Map<string, string>();
  const ownerByMachine = new Map<string, string>();
  for (const group of groups)
    for (const host of group.hosts) {
      const first = ownerByName.get(host.name) ?? ownerByMachine.get(machine(host));
      if (first !== undefined)
        return {
          ok: false,
          message: `${host.name} is in group ${first} and in group ${group.name}'s inventory; a host belongs to one group`,
        };
      ownerByName.set(host.name, group.name);
      ownerByMachine.set(machine(host), group.name);
    }
  return {
    ok: true,
    playbook: {
      ...playbook,
      environments: playbook.environments.map((candidate) =>
        candidate.name === environment.name ? { ...environment, groups } : candidate,
      ),
    },
  };
}
