import type { Environment, Group, Host } from '../playbook/model.js';
import { didYouMean } from '../suggest.js';
import type { PlanFilter } from './plan.js';

/**
 * `--hosts` and `--groups`: the part of an environment a rollout covers. A host is named as the
 * playbook names it, by its address, or by the first label of either when only one host has it
 * (`parser-03` for parser-03.prod.internal).
 */

export type FilterResult = { ok: true; groups: Group[] } | { ok: false; message: string };

const firstLabel = (name: string): string => name.split('.')[0] ?? name;

function namesOf(host: Host): string[] {
  return [host.name, host.address, firstLabel(host.name), firstLabel(host.address)];
}

function listed(names: readonly string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, …`;
}

export function filterGroups(environment: Environment, only: PlanFilter | undefined): FilterResult {
  let groups = environment.groups;
  const groupNames = groups.map((group) => group.name);
  if (only?.groups !== undefined) {
    for (const name of only.groups)
      if (!groupNames.includes(name))
        return {
          ok: false,
          message: `${environment.name} has no group '${name}'; it has ${listed(groupNames)}.${didYouMean(name, groupNames)}`,
        };
    groups = groups.filter((group) => only.groups?.includes(group.name));
  }
  if (only?.hosts === undefined) return { ok: true, groups };
  const everyHost = environment.groups.flatMap((group) =>
    group.hosts.map((host) => ({ host, group: group.name })),
  );
  const chosen = new Set<Host>();
  for (const name of only.hosts) {
    const exact = everyHost.filter(({ host }) => host.name === name || host.address === name);
    const matches =
      exact.length > 0 ? exact : everyHost.filter(({ host }) => namesOf(host).includes(name));
    if (matches.length === 0) {
      const candidates = everyHost.map(({ host }) => host.name);
      const hint = didYouMean(name, [...candidates, ...candidates.map(firstLabel)]);
      return {
        ok: false,
        message: `${environment.name} has no host '${name}'; it has ${listed(candidates)}.${hint}`,
      };
    }
    if (matches.length > 1)
      return {
        ok: false,
        message: `'${name}' could be any of ${matches.map(({ host }) => host.name).join(', ')}; name one in full.`,
      };
    const [match] = matches as [(typeof matches)[number]];
    if (!groups.some((group) => group.name === match.group))
      return {
        ok: false,
        message: `${match.host.name} is in group ${match.group}, which --groups leaves out (${listed(only.groups ?? [])}).`,
      };
    chosen.add(match.host);
  }
  return {
    ok: true,
    groups: groups
      .map((group) => ({ ...group, hosts: group.hosts.filter((host) => chosen.has(host)) }))
      .filter((group) => group.hosts.length > 0),
  };
}
