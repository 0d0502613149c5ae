import type { Plan, PlannedHost } from '../core/rollout/index.js';
import type { HostTarget } from './ports.js';

/** Where the commands of a planned host run, and how they get there. */
export function hostTarget(plan: Plan, host: PlannedHost): HostTarget {
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user ?? plan.sshUser,
    ...(host.identityFile === undefined ? {} : { identityFile: host.identityFile }),
    ...(host.jump === undefined ? {} : { jump: host.jump }),
  };
}
