import type { Plan, PlannedElsewhere, PlannedHost } from '../core/rollout/index.js';
import type { HostTarget } from './ports.js';

/** Where the commands of a planned host run, and how they get there. */
export function hostTarget(plan: Plan, host: PlannedHost | PlannedElsewhere): HostTarget {
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user ?? plan.sshUser,
    ...(host.identityFile === undefined ? {} : { identityFile: host.identityFile }),
    ...(host.jump === undefined ? {} : { jump: host.jump }),
  };
}

/** The hosts the plan's hooks run on (load balancers, say), each once. */
export function hookTargets(plan: Plan): HostTarget[] {
  const found = new Map<string, HostTarget>();
  for (const group of plan.groups)
    for (const host of group.hosts)
      for (const procedure of [host.forward, host.rollback])
        for (const step of [...(procedure?.steps ?? []), ...(procedure?.after ?? [])]) {
          if (step.on === undefined || step.on === 'controller') continue;
          const target = hostTarget(plan, step.on);
          found.set(`${target.user}@${target.address}:${target.port}`, target);
        }
  return [...found.values()];
}
